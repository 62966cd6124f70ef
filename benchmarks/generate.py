"""Realistic study logs of any size, the same for the same seed and end date.

A log is what a person keeps for years: a `##` section a week, a table in each with
Chinese (章节/状态/日期/自测) or English (Topic/Status/Date/Self-test) headers, sometimes a
notes column (with `<br />`), some tables naming what was studied in a content column
(天/日期/学习内容/状态/复习记录, Day/Date/What I learned/Done?/Reviews), some with a column
of planned reviews (下次复习, Next review); continuation rows (`〃`, `-`, empty), pending
rows, review rows that name an earlier topic, and self-test cells with two or three
entries on average (✅, ❌, grade words; dates as `2025-11-27`, `11-27`, `11月27日` or
`Nov 27`), the last of them often a plan: a date after the end date, written without a
mark. The self-tests follow growing gaps, so at the end date most old topics are due and
the recent ones are not, as in a real log. The last section plans topics for the days
after the end date.

    python -m benchmarks.generate 100000 -o log.md [--seed 7] [--end 2026-11-30]

The figures of what was written (rows, self-tests per studied row, review rows, ...) go
to stderr; `LogStats.cards` and `LogStats.reviews` are what `review import` should make.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import asdict, dataclass
from datetime import date, timedelta

CJK = (
    "向量与矩阵", "矩阵乘法", "高斯消元", "行列式", "特征值与特征向量", "奇异值分解", "正交投影",
    "最小二乘", "条件概率", "贝叶斯定理", "随机变量", "期望与方差", "大数定律", "中心极限定理",
    "最大似然估计", "假设检验", "梯度下降", "牛顿法", "凸优化", "拉格朗日乘子", "反向传播",
    "卷积神经网络", "循环神经网络", "注意力机制", "正则化", "批归一化", "学习率调度", "决策树",
    "支持向量机", "聚类", "主成分分析", "动态规划", "贪心算法", "图的遍历", "最短路径",
    "哈希表", "堆与优先队列", "红黑树", "并查集", "字符串匹配", "进程与线程", "虚拟内存",
    "文件系统", "TCP 拥塞控制", "数据库索引", "事务与隔离级别", "编译原理 词法分析", "类型推导",
)
ENGLISH = (
    "Vectors and matrices", "Matrix multiplication", "Gaussian elimination", "Determinants",
    "Eigenvalues", "Singular value decomposition", "Orthogonal projections", "Least squares",
    "Conditional probability", "Bayes' theorem", "Random variables", "Expectation & variance",
    "Law of large numbers", "Central limit theorem", "Maximum likelihood", "Hypothesis tests",
    "Gradient descent", "Newton's method", "Convex optimisation", "Lagrange multipliers",
    "Backpropagation", "Convolutional networks", "Recurrent networks", "Attention",
    "Regularisation", "Batch normalisation", "Learning-rate schedules", "Decision trees",
    "Support vector machines", "Clustering", "PCA", "Dynamic programming", "Greedy algorithms",
    "Graph traversal", "Shortest paths", "Hash tables", "Heaps", "Red-black trees",
    "Union-find", "String matching", "Processes and threads", "Virtual memory", "File systems",
    "TCP congestion control", "Database indexes", "Transactions", "Lexing", "Type inference",
)
NOTES = (
    "", "", "", "课后习题 1-10", "re-derived the proof", "看了两遍视频<br>做了笔记",
    "例题 3.2, 3.5", "implemented from scratch", "重点：推导过程<br />易错：符号",
    "chapter summary written", "配合教材第 4 章", "Anki deck made", "代码在 repo 里",
    "结果一般，需加强。<br />**需加强部分**：<br />-推导过程<br />-动手实现",
)
REVIEW_NOTES = ("10道题对了8道", "mostly right", "忘了推导", "re-did the exercises", "")
PENDING_CJK = ("⏳", "❌", "🔄", "")
PENDING_EN = ("todo", "⏳", "[ ]", "")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# How many self-tests a topic row records, and how often: most topics are tested two to
# four times, a few never, a few often (the figure at the end is about 2.4 per studied row,
# review and continuation rows included, as in the logs people keep).
TEST_COUNTS = (0, 1, 2, 3, 4, 5)
TEST_WEIGHTS = (7, 13, 28, 28, 15, 9)
# The gap before each further self-test, in days: spaced repetition by hand.
GAPS = ((1, 4), (4, 10), (10, 30), (25, 75), (60, 180))
# Table layouts and how often a week uses each (the rest are the Chinese one).
LAYOUTS = (("en", 0.30), ("content_zh", 0.10), ("content_en", 0.07))
PLAN_COLUMN = 0.12  # share of Chinese and English tables with a column of planned reviews
REVIEW_ROWS = 0.05  # share of rows that are a review of an earlier topic
CONTINUATIONS = 0.07  # share of rows that continue the topic above
PENDING = 0.04
STATUSES = {"zh": ("✅", "✅", "✅", "完成"), "en": ("✅", "done", "✅", "✔"),
            "content_zh": ("✅", "完成", "✅", "已完成"), "content_en": ("✔", "yes", "✅", "done")}


@dataclass
class LogStats:
    """What a generated log holds, for checking the import against it."""

    rows: int = 0  # data rows of study tables
    studied: int = 0  # rows done on or before the end date (review and continuation rows too)
    pending: int = 0
    review_rows: int = 0  # studied rows that review an earlier topic (no card of their own)
    continuation_rows: int = 0  # studied rows that continue the topic above (a card each)
    self_tests: int = 0  # self-tests done (dated on or before the end date)
    again: int = 0  # of them, marked ❌
    grade_words: int = 0  # of them, with a grade word (hard, easy)
    plans: int = 0  # planned self-tests: a date after the end date, or in a plan column
    future_rows: int = 0  # rows dated after the end date: planned topics, no card yet
    yearless_dates: int = 0  # learned and self-test dates written without a year
    cjk_rows: int = 0  # rows whose topic has Chinese in it
    br_notes: int = 0  # notes with a <br> or <br />
    weeks: int = 0
    tables: int = 0  # study tables
    content_tables: int = 0  # of them, naming the topic in a content column
    plan_tables: int = 0  # of them, with a column of planned reviews

    @property
    def cards(self) -> int:
        """Cards `review import` makes: every studied row but the reviews of earlier topics."""
        return self.studied - self.review_rows

    @property
    def reviews(self) -> int:
        """Review events the log records: each studied row's study and the self-tests done."""
        return self.studied + self.self_tests

    def density(self) -> dict[str, float]:
        """The figures that make a log realistic, per studied row or as shares of the rows."""
        studied = self.studied or 1
        rows = self.rows or 1
        tests = self.self_tests or 1
        return {
            "self_tests_per_studied_row": round(self.self_tests / studied, 2),
            "plans_per_studied_row": round(self.plans / studied, 3),
            "again_share_of_self_tests": round(self.again / tests, 3),
            "grade_word_share_of_self_tests": round(self.grade_words / tests, 3),
            "review_rows_share": round(self.review_rows / rows, 3),
            "continuation_rows_share": round(self.continuation_rows / rows, 3),
            "pending_rows_share": round(self.pending / rows, 3),
            "future_rows_share": round(self.future_rows / rows, 4),
            "cjk_rows_share": round(self.cjk_rows / rows, 3),
            "br_notes_share": round(self.br_notes / rows, 3),
            "yearless_dates_per_studied_row": round(self.yearless_dates / studied, 3),
            "rows_per_week": round(self.rows / (self.weeks or 1), 1),
        }

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "cards": self.cards, "reviews": self.reviews,
                **self.density()}

    def describe(self) -> str:
        """Two lines a person reads: the counts, then the density."""
        d = self.density()
        return (
            f"{self.rows:,} rows in {self.weeks} weeks ({self.tables} study tables: "
            f"{self.content_tables} with the topic in a content column, {self.plan_tables} "
            f"with planned reviews): {self.studied:,} studied, {self.pending:,} pending, "
            f"{self.future_rows:,} planned topics; expect {self.cards:,} cards and "
            f"{self.reviews:,} reviews, {self.plans:,} planned self-tests\n"
            f"self-tests per studied row {d['self_tests_per_studied_row']:.2f} "
            f"(❌ {d['again_share_of_self_tests']:.0%}, grade words "
            f"{d['grade_word_share_of_self_tests']:.0%}), review rows "
            f"{d['review_rows_share']:.1%}, continuation rows "
            f"{d['continuation_rows_share']:.1%}, pending {d['pending_rows_share']:.1%}, "
            f"CJK topics {d['cjk_rows_share']:.0%}, <br> notes {d['br_notes_share']:.1%}, "
            f"dates without a year {self.yearless_dates:,}, plans per studied row "
            f"{d['plans_per_studied_row']:.2f}")


def _topic(rng: random.Random, week: int, index: int) -> str:
    roll = rng.random()
    if roll < 0.4:
        name = rng.choice(CJK)
    elif roll < 0.75:
        name = rng.choice(ENGLISH)
    else:
        name = f"{rng.choice(CJK)} {rng.choice(ENGLISH)}"
    return f"{week}.{index} {name}"


def _yearless(rng: random.Random, day: date, chinese: bool) -> str:
    """A date without its year, as people write one: 11-27, 11月27日 or Nov 27."""
    roll = rng.random()
    if roll < 0.5:
        return day.strftime("%m-%d")
    if chinese if roll < 0.9 else not chinese:
        return f"{day.month}月{day.day}日"
    return f"{MONTHS[day.month - 1]} {day.day}"


def _date_cell(rng: random.Random, day: date, latest: date, chinese: bool, yearless: bool,
               stats: LogStats) -> tuple[str, date]:
    """A date cell and the learned date it means (the end of a range, never after `latest`,
    the week's last day: so no two tables hold a row of the same day).

    `yearless`: the cell may leave out the year (the heading and the row above say it).
    """
    roll = rng.random()
    if roll < 0.64:
        return day.isoformat(), day
    if roll < 0.74:
        if not yearless:
            return day.isoformat(), day
        stats.yearless_dates += 1
        return _yearless(rng, day, chinese), day
    if roll < 0.82:
        return day.strftime("%Y/%m/%d"), day
    if roll < 0.86:
        return day.strftime("%Y.%m.%d"), day
    last = min(day + timedelta(days=rng.randint(1, 3)), latest)
    if last == day:
        return day.isoformat(), day
    if roll < 0.95:
        return f"{day.isoformat()} ～ {last.strftime('%m-%d')}", last
    if last.month == day.month:
        return f"{day.isoformat()} ~ {last.day:02d}", last
    return f"{day.isoformat()} - {last.isoformat()}", last


def _self_tests(rng: random.Random, learned: date, end: date, chinese: bool, plan_column: bool,
                stats: LogStats) -> tuple[list[str], date | None]:
    """The entries of a self-test cell, oldest first, and the next planned day.

    Entries after `end` are plans: at most one, written as a bare date in the cell, or
    returned for the plan column when the table has one.
    """
    wanted = rng.choices(TEST_COUNTS, TEST_WEIGHTS)[0]
    entries: list[str] = []
    day = learned
    for number, (low, high) in enumerate(GAPS):
        day = day + timedelta(days=rng.randint(low, high))
        if day > end or number >= wanted:
            if plan_column:
                return entries, day
            if day > end and number < wanted and rng.random() < 0.6:
                entries.append(day.isoformat())
                stats.plans += 1
            return entries, None
        roll = rng.random()
        if roll < 0.84 or (day.month, day.day) == (2, 29):  # 02-29 needs its year
            text = day.isoformat()
        else:
            text = _yearless(rng, day, chinese)
            stats.yearless_dates += 1
        roll = rng.random()
        if roll < 0.66:
            entries.append(f"✅ {text}")
        elif roll < 0.80:
            entries.append(f"❌ {text}")
            stats.again += 1
        elif roll < 0.90:
            entries.append(text)
        elif roll < 0.95:
            entries.append(f"{text} hard")
            stats.grade_words += 1
        else:
            entries.append(f"{text} easy")
            stats.grade_words += 1
        stats.self_tests += 1
    # Every wanted self-test done: the next is months ahead.
    return entries, (day + timedelta(days=rng.randint(120, 365)) if plan_column else None)


def _header(layout: str, week: int, monday: date, with_notes: bool,
            plan_column: bool) -> list[str]:
    """The section heading and the table header of one week."""
    if layout == "en":
        cols = ["Topic", "Status", "Date", "Self-test"] + (["Next review"] if plan_column
                                                          else []) + (["Notes"] if with_notes
                                                                      else [])
        return [f"## Week {week} ({monday.isoformat()})", "",
                "| " + " | ".join(cols) + " |", "| " + " | ".join([":---"] * len(cols)) + " |"]
    if layout == "content_zh":
        cols = ["天", "日期", "学习内容", "状态", "复习记录"] + (["备注"] if with_notes else [])
        return [f"## {monday.year} 第 {week} 周", "", "|" + "|".join(cols) + "|",
                "|" + "|".join(["---"] * len(cols)) + "|"]
    if layout == "content_en":
        cols = ["Day", "Date", "What I learned", "Done?", "Reviews"]
        return [f"## Week {week}: {monday.strftime('%b')} {monday.day}, {monday.year}", "",
                "| " + " | ".join(cols) + " |", "|" + "|".join(["---"] * len(cols)) + "|"]
    cols = ["章节", "状态", "日期", "自测"] + (["下次复习"] if plan_column else []) + (
        ["内容"] if with_notes else [])
    return [f"## 第 {week} 周 Week {week} — {monday.isoformat()}", "",
            "|" + "|".join(cols) + "|", "|" + "|".join(["------"] * len(cols)) + "|"]


def _layout(rng: random.Random) -> str:
    roll = rng.random()
    for layout, share in LAYOUTS:
        if roll < share:
            return layout
        roll -= share
    return "zh"


def _with(cells: list[str], slot: int, value: str) -> tuple[str, ...]:
    """The row's cells with `value` in the topic's place."""
    return (*cells[:slot], value, *cells[slot + 1:])


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _plan_section(rng: random.Random, count: int, end: date, stats: LogStats) -> list[str]:
    """Topics planned for the days after `end`: rows dated ahead, no card until their day."""
    out = ["## 下周计划 Next weeks", "", "| 章节 | 日期 |", "|---|---|"]
    for index in range(count):
        day = end + timedelta(days=1 + index * 14 // count)
        topic = f"plan.{index + 1} {rng.choice(CJK + ENGLISH)}"
        out.append(f"| {topic} | {day.isoformat()} |")
        stats.rows += 1
        stats.future_rows += 1
        stats.cjk_rows += _has_cjk(topic)
    stats.tables += 1
    return out + [""]


def generate(rows: int, *, seed: int = 7, end: date | None = None, years: float = 4.0,
             max_reviews: int | None = None) -> tuple[str, LogStats]:
    """A study log of about `rows` table rows whose studies end at `end` (default today).

    About 0.3 % of the rows plan topics after `end`. With `max_reviews`, the log stops
    once it records that many review events.
    """
    rng = random.Random(seed)
    end = end or date.today()
    start = end - timedelta(days=int(years * 365.25))
    start -= timedelta(days=start.weekday())  # weeks start on Monday
    weeks = (end - start).days // 7 + 1
    future = 0 if max_reviews is not None or rows < 50 else max(1, rows * 3 // 1000)
    per_week = (rows - future) / weeks
    stats = LogStats()
    out = ["# 学习日志 Study log", "", "Generated for the srs benchmark.", ""]
    # Topics of the last weeks a review row may name: (topic, learned on), none continued.
    recent: list[tuple[str, date]] = []
    continued: set[str] = set()
    made = 0.0
    for week in range(weeks):
        monday = start + timedelta(days=7 * week)
        made += per_week
        count = int(made) - stats.rows
        if week == weeks - 1:
            count = rows - future - stats.rows
        if count <= 0:
            continue
        if max_reviews is not None and stats.reviews >= max_reviews:
            break
        stats.weeks += 1
        stats.tables += 1
        layout = _layout(rng)
        chinese = layout in ("zh", "content_zh")
        with_notes = layout != "content_en" and rng.random() < 0.4
        plan_column = layout in ("zh", "en") and rng.random() < PLAN_COLUMN
        stats.content_tables += layout.startswith("content")
        stats.plan_tables += plan_column
        out += _header(layout, week + 1, monday, with_notes, plan_column)
        previous: str | None = None
        learned_here: list[tuple[str, date]] = []
        seen: set[tuple[str, ...]] = set()  # a row like one above would be no card
        last_learned: date | None = None
        sunday = min(monday + timedelta(days=6), end)
        for index in range(count):
            day = min(monday + timedelta(days=index * 7 // count), end)
            roll = rng.random()
            pending = roll < PENDING or (day >= end - timedelta(days=3) and roll < 0.3)
            kind, cell = "topic", ""
            edge = PENDING + CONTINUATIONS
            if not pending and previous is not None and PENDING <= roll < edge:
                kind = "continuation"
            elif not pending and recent and edge <= roll < edge + REVIEW_ROWS:
                for _try in range(5):
                    target, learned_on = rng.choice(recent)
                    if target not in continued and learned_on <= day:
                        kind = "review"
                        cell = {"zh": f"自测 {target}", "en": f"Review: {target}",
                                "content_zh": f"复习 {target}",
                                "content_en": f"Review {target}"}[layout]
                        break
            note = rng.choice(NOTES) if with_notes else ""
            if kind == "review" and with_notes:
                note = rng.choice(REVIEW_NOTES)
            planned: date | None = None
            tests: list[str] = []
            if pending:
                status = rng.choice(PENDING_CJK if chinese else PENDING_EN)
                date_text = day.isoformat() if rng.random() < 0.3 else ""
            else:
                status = STATUSES[layout][rng.randrange(4)]
                # Without a year only where the heading's year and the row above (a
                # range may end after this row's day) put it right, as a person writes.
                yearless = day.year == monday.year and (last_learned is None
                                                        or last_learned <= day)
                date_text, learned = _date_cell(rng, day, sunday, chinese, yearless, stats)
                last_learned = learned
                if kind != "review":
                    tests, planned = _self_tests(rng, learned, end, chinese, plan_column,
                                                 stats)
                    if planned is not None and rng.random() < 0.25:
                        planned = None  # no plan written down for this one
            sep = "; " if any(m in " ".join(tests) for m in MONTHS) else rng.choice(
                (", ", ", ", "、", "; "))
            extra = ([planned.isoformat() if planned is not None else ""] if plan_column
                     else []) + ([note] if with_notes else [])

            if layout in ("en", "zh"):
                cells, slot = ["", status, date_text, sep.join(tests), *extra], 0
            else:
                cells, slot = [str(index + 1), date_text, "", status, sep.join(tests),
                               *extra], 2

            if kind == "continuation":
                for ditto in rng.sample(("〃", "-", ""), 3):
                    if _with(cells, slot, ditto) not in seen:
                        cell = ditto
                        break
                else:
                    kind = "topic"
            elif kind == "review" and _with(cells, slot, cell) in seen:
                kind = "topic"
            if kind == "topic":
                cell = _topic(rng, week + 1, index + 1)
            topic = previous if kind == "continuation" else cell
            assert topic is not None
            cells[slot] = cell
            seen.add(tuple(cells))
            out.append("| " + " | ".join(cells) + " |")
            stats.rows += 1
            stats.cjk_rows += _has_cjk(topic)
            stats.br_notes += "<br" in note
            stats.plans += planned is not None
            if pending:
                stats.pending += 1
            else:
                stats.studied += 1
                stats.review_rows += kind == "review"
                stats.continuation_rows += kind == "continuation"
                if kind == "continuation":
                    continued.add(topic)
                elif kind == "topic":
                    learned_here.append((topic, learned))
            previous = topic if kind != "review" else None
        recent = (recent + learned_here)[-200:]
        out.append("")
        if week % 50 == 49:
            out += ["## Reading list", "", "| Book | Author |", "|---|---|",
                    "| Linear Algebra Done Right | Axler |", ""]
    if future:
        out += _plan_section(rng, future, end, stats)
    return "\n".join(out), stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a realistic study log.")
    parser.add_argument("rows", type=int)
    parser.add_argument("-o", "--output", help="file to write (default: stdout)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", type=date.fromisoformat, help="last date (default: today)")
    parser.add_argument("--years", type=float, default=4.0)
    args = parser.parse_args(argv)
    text, stats = generate(args.rows, seed=args.seed, end=args.end, years=args.years)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    print(stats.describe(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
