"""Realistic study logs of any size, the same for the same seed and end date.

A log is what a person keeps for years: a `##` section a week, a table in each with
Chinese (章节/状态/日期/自测) or English (Topic/Status/Date/Self-test) headers, sometimes a
notes column, continuation rows (`〃`, `-`), pending rows, review rows that name an
earlier topic, and self-test cells with several entries (✅, ❌, grade words, MM-DD).
The self-tests follow growing gaps, so at the end date most old topics are due and the
recent ones are not, as in a real log.

    python -m benchmarks.generate 100000 -o log.md [--seed 7] [--end 2026-11-30]
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
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
)
REVIEW_NOTES = ("10道题对了8道", "mostly right", "忘了推导", "re-did the exercises", "")
PENDING_CJK = ("⏳", "❌", "🔄", "")
PENDING_EN = ("todo", "⏳", "[ ]", "")
# How many self-tests a studied row records, and how often (people test few topics often).
TEST_COUNTS = (0, 1, 2, 3, 4, 5)
TEST_WEIGHTS = (30, 30, 20, 10, 6, 4)
# The gap before each further self-test, in days: spaced repetition by hand.
GAPS = ((1, 4), (5, 14), (15, 45), (40, 120), (100, 300))


@dataclass
class LogStats:
    """What a generated log holds, for checking the import against it."""

    rows: int = 0
    studied: int = 0
    pending: int = 0
    review_rows: int = 0
    continuation_rows: int = 0
    self_tests: int = 0
    weeks: int = 0

    @property
    def reviews(self) -> int:
        """Review events the log records: each studied row's first study and its self-tests."""
        return self.studied + self.self_tests


def _topic(rng: random.Random, week: int, index: int) -> str:
    roll = rng.random()
    if roll < 0.4:
        name = rng.choice(CJK)
    elif roll < 0.75:
        name = rng.choice(ENGLISH)
    else:
        name = f"{rng.choice(CJK)} {rng.choice(ENGLISH)}"
    return f"{week}.{index} {name}"


def _date_cell(rng: random.Random, day: date, end: date) -> tuple[str, date]:
    """A date cell and the learned date it means (the end of a range)."""
    roll = rng.random()
    if roll < 0.75:
        return day.isoformat(), day
    if roll < 0.85:
        return day.strftime("%Y/%m/%d"), day
    if roll < 0.88:
        return day.strftime("%Y.%m.%d"), day
    last = min(day + timedelta(days=rng.randint(1, 3)), end)
    if last == day:
        return day.isoformat(), day
    if roll < 0.96:
        return f"{day.isoformat()} ～ {last.strftime('%m-%d')}", last
    if last.month == day.month:
        return f"{day.isoformat()} ~ {last.day:02d}", last
    return f"{day.isoformat()} - {last.isoformat()}", last


def _self_tests(rng: random.Random, learned: date, end: date) -> list[str]:
    """The entries of a self-test cell, oldest first, none after `end`."""
    wanted = rng.choices(TEST_COUNTS, TEST_WEIGHTS)[0]
    entries, day = [], learned
    for low, high in GAPS[:wanted]:
        day = day + timedelta(days=rng.randint(low, high))
        if day > end:
            break
        text = day.isoformat() if rng.random() < 0.9 else day.strftime("%m-%d")
        roll = rng.random()
        if roll < 0.70:
            entries.append(f"✅ {text}")
        elif roll < 0.82:
            entries.append(f"❌ {text}")
        elif roll < 0.90:
            entries.append(text)
        elif roll < 0.95:
            entries.append(f"{text} hard")
        else:
            entries.append(f"{text} easy")
    return entries


def generate(rows: int, *, seed: int = 7, end: date | None = None, years: float = 4.0,
             max_reviews: int | None = None) -> tuple[str, LogStats]:
    """A study log of about `rows` table rows whose dates end at `end` (default today).

    With `max_reviews`, the log stops once it records that many review events.
    """
    rng = random.Random(seed)
    end = end or date.today()
    start = end - timedelta(days=int(years * 365.25))
    start -= timedelta(days=start.weekday())  # weeks start on Monday
    weeks = (end - start).days // 7 + 1
    per_week = rows / weeks
    stats = LogStats()
    out = ["# 学习日志 Study log", "", "Generated for the srs benchmark.", ""]
    recent: list[str] = []  # topics of the last weeks, for review rows
    made = 0.0
    for week in range(weeks):
        monday = start + timedelta(days=7 * week)
        made += per_week
        count = int(made) - stats.rows
        if week == weeks - 1:
            count = rows - stats.rows
        if count <= 0:
            continue
        if max_reviews is not None and stats.reviews >= max_reviews:
            break
        stats.weeks += 1
        english = rng.random() < 0.35
        with_notes = rng.random() < 0.4
        if english:
            out.append(f"## Week {week + 1} ({monday.isoformat()})")
            header = ["Topic", "Status", "Date", "Self-test"] + (["Notes"] if with_notes else [])
            out += ["", "| " + " | ".join(header) + " |",
                    "| " + " | ".join([":---"] * len(header)) + " |"]
        else:
            out.append(f"## 第 {week + 1} 周 Week {week + 1} — {monday.isoformat()}")
            header = ["章节", "状态", "日期", "自测"] + (["内容"] if with_notes else [])
            out += ["", "|" + "|".join(header) + "|",
                    "|" + "|".join(["------"] * len(header)) + "|"]
        previous: str | None = None
        for index in range(count):
            day = min(monday + timedelta(days=index * 7 // count), end)
            roll = rng.random()
            pending = roll < 0.04 or (day >= end - timedelta(days=3) and roll < 0.3)
            if previous is not None and 0.04 <= roll < 0.11:
                topic, cell = previous, rng.choice(("〃", "-", "〃", ""))
                stats.continuation_rows += 1
            elif recent and 0.11 <= roll < 0.12:
                target = rng.choice(recent)
                cell = f"自测 {target}" if not english else f"Review: {target}"
                topic = cell
                stats.review_rows += 1
            else:
                topic = cell = _topic(rng, week + 1, index + 1)
            previous = topic
            note = rng.choice(NOTES) if with_notes else ""
            if topic.startswith(("自测", "Review:")) and with_notes:
                note = rng.choice(REVIEW_NOTES)
            if pending:
                status = rng.choice(PENDING_EN if english else PENDING_CJK)
                date_text, tests = (day.isoformat() if rng.random() < 0.3 else ""), []
                stats.pending += 1
            else:
                status = rng.choice(("✅", "done", "✅", "✔")) if english else rng.choice(
                    ("✅", "✅", "✅", "完成"))
                date_text, learned = _date_cell(rng, day, end)
                tests = _self_tests(rng, learned, end)
                stats.studied += 1
                stats.self_tests += len(tests)
                if not topic.startswith(("自测", "Review:")):
                    recent.append(topic)
            sep = rng.choice((", ", ", ", "、", "; "))
            cells = [cell, status, date_text, sep.join(tests)] + ([note] if with_notes else [])
            out.append("| " + " | ".join(cells) + " |")
            stats.rows += 1
        recent = recent[-200:]
        out.append("")
        if week % 50 == 49:
            out += ["## Reading list", "", "| Book | Author |", "|---|---|",
                    "| Linear Algebra Done Right | Axler |", ""]
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
    print(stats, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
