"""The words study logs use, in Chinese and English: column headers, statuses, mastery.

Matching is on text folded to lower case and stripped of markdown decoration. Chinese
words match anywhere in a header; English words match whole words only ("test" is not
in "latest").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ROLE_WORDS", "Status", "header_key", "header_roles", "is_plan_date",
           "is_plan_header", "mastery_score", "status_of"]

# --- columns ----------------------------------------------------------------------------

# Checked in this order: a header takes the first role that names it ("Self-test date" is a
# self-test column; "完成日期" a date column; "学习内容" content, not topic).
ROLE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("attempt", ("一刷", "二刷", "三刷", "四刷", "五刷", "1刷", "2刷", "3刷", "first try",
                 "second try", "third try", "1st try", "2nd try", "3rd try", "attempt 1",
                 "attempt 2", "attempt 3", "1st attempt", "2nd attempt", "3rd attempt",
                 # "| # | 1st | 2nd | 3rd |": the dates a problem was done again
                 "1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th",
                 "第一遍", "第二遍", "第三遍", "第四遍", "第五遍")),
    ("self_test", ("自测", "测验", "自我测试", "复习日期", "复习时间", "复习记录", "复习计划",
                   "复习", "回顾日期", "回顾", "self-test", "selftest", "self test",
                   "self-tests", "quiz", "quizzes", "test", "tests", "review date",
                   "review dates", "reviews", "reviewed", "review", "revision", "revisions",
                   "recall", "spaced repetition")),
    ("mastery", ("掌握程度", "掌握度", "掌握情况", "熟练度", "熟练程度", "理解程度", "理解度",
                 "熟悉度", "mastery", "confidence", "proficiency", "familiarity",
                 "understanding", "comprehension")),
    ("date", ("日期", "时间", "date", "dates", "when", "day of", "studied on", "completed on")),
    ("other", ("更新内容", "更新", "修改记录", "修改", "变更", "修订", "changelog", "change",
               "changes", "update", "updates")),
    ("status", ("状态", "完成情况", "是否完成", "完成状态", "完成度", "完成", "进度", "进展",
                "打卡",
                "status", "state", "done", "progress", "completed", "complete", "finished",
                "check")),
    ("topic", ("章节", "主题", "课程", "知识点", "题目", "标题", "名称", "课题", "任务", "科目",
               "章", "topic", "topics", "chapter", "title", "subject", "lesson", "lessons",
               "problem", "problems", "item", "task", "tasks", "module", "unit", "course",
               "concept", "section", "name", "exercise", "lecture", "skill")),
    ("content", ("学习内容", "内容", "学了什么", "content", "contents", "what", "description",
                 "summary", "learned", "studied")),
    ("notes", ("备注", "笔记", "说明", "心得", "总结", "收获", "感想", "问题", "反思", "notes",
               "note", "comment", "comments", "remarks", "remark", "details", "detail",
               "thoughts", "takeaways", "reflection")),
    ("index", ("#", "序号", "编号", "天数", "第几天", "天", "day", "no", "no.", "num", "id",
               "week", "周", "周次")),
    ("link", ("链接", "地址", "资源", "link", "links", "url", "resource", "resources",
              "source", "reference", "references", "repo", "code", "代码")),
    ("other", ("难度", "难易", "优先级", "标签", "分类", "类别", "来源", "平台", "时长", "用时",
               "耗时",
               "difficulty", "priority", "tags", "tag", "category", "platform", "duration",
               "hours", "time spent", "minutes", "level")),
)
# Header words that make a self-test column a plan: its unmarked dates are planned, not done.
PLAN_WORDS = ("计划", "预计", "安排", "下次", "待复习", "复习日期", "复习时间", "plan", "planned",
              "next", "scheduled", "upcoming", "due", "review date", "review dates")
# A self-test header naming these is about the content of reviews, not their dates.
_NOT_SELF_TEST = ("内容", "content", "notes", "笔记", "备注")


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    parts = [
        rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])" if w.isascii() else re.escape(w)
        for w in sorted(words, key=len, reverse=True)
    ]
    return re.compile("|".join(parts))


_ROLE_RES = tuple((role, _pattern(words)) for role, words in ROLE_WORDS)
_PLAN_RE = _pattern(PLAN_WORDS)
_NOT_SELF_TEST_RE = _pattern(_NOT_SELF_TEST)
_DECORATION = re.compile(r"\*\*|__|`|~~|<[^<>]{0,300}>")
_CHECKBOX = re.compile(r"<input[^<>]{0,300}>", re.I)


def header_key(cell: str) -> str:
    """A header cell as it is matched: lower case, without markdown or emoji around it."""
    text = _DECORATION.sub("", cell).strip().strip("*_:：").lower()
    return text.strip(" \t\u200b\ufe0f") or cell.strip()


_DATE_BETTER = _pattern(("完成", "学习", "done", "completed", "finished", "studied", "learned"))
_DATE_WORSE = _pattern(("开始", "截止", "计划", "预计", "发现", "添加", "创建", "start", "started",
                        "begin", "deadline", "due", "planned", "plan", "target", "added",
                        "created", "found", "discovered"))
# A date column that says when a topic was found, added or is due: not when it was studied.
_NOT_STUDIED = _pattern(("截止", "计划", "预计", "发现", "添加", "创建", "deadline", "due",
                         "planned", "plan", "target", "added", "created", "found",
                         "discovered"))


def is_plan_date(cell: str) -> bool:
    """True for a date header naming a plan or a discovery, not a study (发现日期, Deadline)."""
    return _NOT_STUDIED.search(header_key(cell)) is not None


# The headers of a table of keys and values ("| 属性 | 值 |"): no study table.
_KEY_VALUE = frozenset({"key", "value", "field", "attribute", "property", "item", "属性", "值",
                        "项", "字段", "参数", "parameter", "setting", "配置"})


def header_role(cell: str) -> str | None:
    """The role a header cell's words name, or None."""
    key = header_key(cell)
    if not key:
        return None
    if key in _KEY_VALUE and key != "item":
        return "other"
    for role, regex in _ROLE_RES:
        if regex.search(key) is None:
            continue
        if role == "self_test" and _NOT_SELF_TEST_RE.search(key):
            continue
        return role
    return None


def header_roles(header: list[str]) -> dict[int, str]:
    """The role of each column by its header's words.

    One column per role; a second topic, content or notes column is more notes. Of several
    date columns the one saying when a topic was done wins over a start, plan or deadline.
    """
    named = {col: role for col, cell in enumerate(header) if (role := header_role(cell))}
    dates = [col for col, role in named.items() if role == "date"]
    if len(dates) > 1:
        def rank(col: int) -> tuple[int, int]:
            key = header_key(header[col])
            return (-(_DATE_BETTER.search(key) is not None)
                    + (_DATE_WORSE.search(key) is not None), col)

        best = min(dates, key=rank)
        for col in dates:
            if col != best:
                named[col] = "other"
    roles: dict[int, str] = {}
    taken: set[str] = set()
    for col in sorted(named):
        role = named[col]
        if role in taken and role not in ("index", "link", "other", "attempt", "self_test"):
            role = "notes" if role in ("topic", "content", "notes") else "other"
        taken.add(role)
        roles[col] = role
    return roles


def is_plan_header(cell: str) -> bool:
    """True for a self-test column of planned dates ("复习计划", "Next review")."""
    return _PLAN_RE.search(header_key(cell)) is not None


# --- status -------------------------------------------------------------------------------

DONE_MARKS = ("✅", "✔", "☑", "✓", "√", "🟢", "💯", "🎉", "🆗")
PENDING_MARKS = ("⬜", "☐", "⏳", "🟡", "🔄", "🚧", "❌", "✗", "✘", "✖", "⭕", "🔴", "⌛", "🕐",
                 "⏸", "🔲", "⚪", "○", "◯", "□", "➖", "📅", "▶", "🗓", "⏰", "🔜")
DONE_WORDS = ("完成", "完成了", "已完成", "已掌握", "掌握", "已学", "已学完", "学完", "已学习",
              "已读",
              "读完", "已看", "看完", "已看完", "通过", "已通过", "已复习", "已做", "做完",
              "已解决", "解决", "ac", "done", "completed", "complete", "finished", "finish",
              "yes", "y", "ok", "true", "passed", "pass", "learned", "learnt", "read",
              "studied", "solved", "accepted", "mastered", "reviewed", "[x]")
PENDING_WORDS = ("未完成", "未开始", "未学", "未读", "没学", "没做", "未做", "进行中", "学习中",
                 "正在学", "正在", "计划", "计划中", "待", "待学", "待学习", "待开始", "待完成",
                 "待复习", "暂停", "放弃", "跳过", "延期", "推迟", "todo", "to do", "to-do",
                 "planned", "plan", "pending", "not started", "not_started", "not-started",
                 "not done", "not yet", "not", "in progress", "in_progress", "in-progress",
                 "wip", "doing", "ongoing", "started", "paused", "skipped", "skip", "no", "n",
                 "false", "later", "backlog", "blocked", "next", "upcoming", "[ ]", "[]")
_LEAD = re.compile(r"^[\s*_`~>\-+•·]*")


@dataclass(frozen=True)
class Status:
    """What a status cell says: done, pending, empty, or something not understood."""

    kind: str  # done | pending | empty | unknown
    text: str


def _starts_with_word(text: str, words: tuple[str, ...]) -> bool:
    """True when `text` starts with one of `words` as a whole word ("完成（补交）", not
    "完成一半"; "done (late)", not "doner")."""
    for word in words:
        if text.startswith(word):
            rest = text[len(word):len(word) + 1]
            if not rest or not rest.isalnum():
                return True
    return False


def _leading(words: tuple[str, ...]) -> re.Pattern[str]:
    """A regex for "starts with one of `words` as a whole word", longest word first."""
    return re.compile("(?:" + "|".join(re.escape(w) for w in sorted(words, key=len,
                                                                       reverse=True))
                      + r")(?![^\W_])")


_DONE_RE = _leading(DONE_WORDS)
_PENDING_RE = _leading(PENDING_WORDS)
_PERCENT = re.compile(r"^(\d{1,3}(?:\.\d+)?)\s*%")


def status_of(cell: str, extra_done: tuple[str, ...] = (),
              extra_pending: tuple[str, ...] = ()) -> Status:
    """Read a status cell by its first mark or word, whatever remark follows it."""
    if "<input" in cell.lower():  # an HTML checkbox: only `checked` says anything
        box = _CHECKBOX.search(cell)
        if box is not None and re.search(r"\bchecked\b", box[0], re.I):
            return Status("done", "checked")
        cell = _CHECKBOX.sub("", cell)
    text = _LEAD.sub("", _DECORATION.sub("", cell)).strip().lower()
    if not text or text in ("—", "–", "〃", "n/a", "na", "/"):
        return Status("empty", "")
    if text.startswith(PENDING_MARKS) or text.startswith(("[ ]", "[]")):
        return Status("pending", text)
    if text.startswith(DONE_MARKS):
        return Status("done", text)
    if percent := _PERCENT.match(text):
        return Status("done" if float(percent[1]) >= 100 else "pending", text)
    # Pending words first: "未完成" and "not done" start with words that are not "done".
    if extra_pending and _starts_with_word(text, extra_pending):
        return Status("pending", text)
    if extra_done and _starts_with_word(text, extra_done):
        return Status("done", text)
    if _PENDING_RE.match(text):
        return Status("pending", text)
    if _DONE_RE.match(text):
        return Status("done", text)
    return Status("unknown", text)


# --- mastery ------------------------------------------------------------------------------

# How well a topic was learned, as the score (0-100) the grade is then read from with
# `score_thresholds` (below 60 again, below 80 hard, below 95 good, else easy by default).
MASTERY_WORDS: tuple[tuple[float, tuple[str, ...]], ...] = (
    (100, ("精通", "非常熟练", "完全掌握", "很熟练", "熟练掌握", "很好", "优秀", "excellent",
           "expert",
           "mastered", "perfect", "fluent", "very high", "very good", "strong")),
    (85, ("熟练", "掌握", "已掌握", "熟悉", "较好", "良好", "理解", "已理解", "好", "高", "会",
          "good",
          "high", "solid", "confident", "well", "comfortable", "familiar")),
    (65, ("一般", "中等", "中", "还行", "尚可", "基本掌握", "基本理解", "部分", "一知半解", "模糊",
          "了解", "已了解", "fair", "medium", "moderate", "ok", "okay", "partial", "so-so",
          "average", "basic", "shaky")),
    (30, ("生疏", "不熟", "不会", "不懂", "没掌握", "未掌握", "不理解", "差", "低", "弱", "很差",
          "poor", "low", "weak", "none", "bad", "lost", "confused", "no")),
)
_STARS = re.compile(r"^([★⭐🌟]+)([☆✩]*)$")
_SYMBOLS = re.compile(r"^[^\w★⭐🌟☆✩]+")
_FRACTION = re.compile(r"^(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)$")
_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)\s*(%|分)?$")


def mastery_score(cell: str) -> float | None:
    """A mastery cell as a score from 0 to 100; None when it cannot be read.

    Words by the table above; stars filled out of all stars shown (out of 5 when only
    filled ones are shown); a fraction; a percentage; a bare number as out of 5 when it is
    at most 5, out of 10 when at most 10, else a percentage.
    """
    text = _DECORATION.sub("", cell).strip().lower().replace(" ", "")
    text = _SYMBOLS.sub("", text) or text  # "🎯 已掌握"
    if not text:
        return None
    if stars := _STARS.match(text):
        filled, empty = len(stars[1]), len(stars[2])
        return 100 * filled / max(filled + empty, 5)
    if fraction := _FRACTION.match(text):
        got, out_of = float(fraction[1]), float(fraction[2])
        return 100 * got / out_of if 0 < out_of and got <= out_of else None
    if number := _NUMBER.match(text):
        value = float(number[1])
        if number[2]:
            return value if value <= 100 else None
        for top in (5, 10, 100):
            if value <= top:
                return 100 * value / top
        return None
    for score, words in MASTERY_WORDS:
        if text in words:
            return score
    for score, regex in _MASTERY_LEADING:  # "熟练（需复习）": the first word decides
        if regex.match(text):
            return score
    return None


_MASTERY_LEADING = tuple((score, _leading(tuple(w for w in words if len(w) > 1)))
                         for score, words in MASTERY_WORDS)
