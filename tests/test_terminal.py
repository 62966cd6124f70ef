"""At the terminal: cards told apart by their labels, lists laid out by display width at 60,
80 and 120 columns, plain tab-separated lines when piped, undo per command, and the session
and queue saying what to do next."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from freezegun import freeze_time

from cli.main import cli
from srs.text import cell_width
from terminal import REVIEW, SGR, in_terminal

TOPIC = "机器学习统计"
LOG = f"""# 学习记录 2026

## 第一周 统计学习方法

| 日期 | 章节 | 状态 | 备注 | 自测 |
|------|------|------|------|------|
| 2026-10-01 | {TOPIC} | ✅ | 感知机，模型、策略、对偶形式<br>第二行 | ✅ 2026-10-04 |
| 2026-10-02 | {TOPIC} | ✅ | KNN，kd 树的构造与搜索 | ❌ 2026-10-05 |
| 2026-10-03 | {TOPIC} | ✅ | | ✅ 2026-10-06 |
| 2026-10-04 | {TOPIC} | ✅ | | ✅ 2026-10-07 |
| 2026-10-05 | 📚 Reading: "Attention Is All You Need" and the annotated transformer, with a long English title that goes on | ✅ | notes [with brackets] and more words to fill a line | ✅ 2026-10-08 |
| 2026-10-06 | 自注意力机制 [多头] ✅ | ✅ | 手搓一个Transformer基础版，Encoder 与 Decoder 的实现细节 | ✅ 2026-10-09 |
| 2026-10-07 | 反向传播 | ✅ | 链式法则 | ✅ 2026-10-10 |
"""


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """A home with the log above imported, as the environment of `review`."""
    env = {**os.environ, "SRS_HOME": str(tmp_path / "home"), "TZ": "UTC"}
    env.pop("NO_COLOR", None)
    (tmp_path / "home" / "config").mkdir(parents=True)
    (tmp_path / "home" / "config" / "config.toml").write_text(
        'timezone = "UTC"\nmax_reviews_per_day = 5\n', encoding="utf-8")
    log = tmp_path / "log.md"
    log.write_text(LOG, encoding="utf-8")
    review(env, "import", str(log))
    return env


def review(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`review ARGS` piped (not a terminal), asserting success."""
    done = subprocess.run([REVIEW, *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done


def review_json(env: dict[str, str], *args: str) -> Any:
    return json.loads(review(env, *args, "--json").stdout)


def screen(env: dict[str, str], args: list[str], columns: int,
           typed: bytes = b"") -> tuple[int, list[str]]:
    """`review ARGS` on a terminal `columns` wide: its status and lines, styles removed."""
    status, output = in_terminal(args, env=env, columns=columns, typed=typed)
    return status, SGR.sub(b"", output).decode("utf-8").splitlines()


# --- labels -----------------------------------------------------------------------------------


def test_cards_of_one_topic_are_told_apart_everywhere(home: dict[str, str],
                                                      tmp_path: Path) -> None:
    cards = review_json(home, "cards")
    same = [card for card in cards if card["topic"] == TOPIC]
    assert [card["label"] for card in same] == [
        f"{TOPIC} · 感知机，模型、策略、对偶形式",  # the first line of its notes
        f"{TOPIC} · KNN，kd 树的构造与搜索",
        f"{TOPIC} · 2026-10-03",  # no notes: its learned date
        f"{TOPIC} · 2026-10-04",
    ]
    alone = next(card for card in cards if card["topic"] == "反向传播")
    assert alone["label"] == "反向传播"  # a topic of its own needs nothing more
    queue = review_json(home, "today", "--all")
    assert len({entry["label"] for entry in queue}) == len(queue)
    first = next(card for card in same if card["notes"].startswith("KNN"))
    graded = review(home, "grade", str(first["id"]), "good").stdout
    assert f"{TOPIC} · KNN" in graded
    assert f"{TOPIC} · KNN" in review(home, "undo").stdout
    with freeze_time("2026-12-03 10:00:00"):  # after the 09:00 digest
        digest = CliRunner().invoke(cli, ["remind", "--dry-run", "--json"], env=home,
                                    catch_exceptions=False)
    body = json.loads(digest.stdout)["would_send"]["body"].splitlines()
    assert f"• {TOPIC} · 2026-10-03" in body and f"• {TOPIC} · KNN，kd 树的构造与搜索" in body
    ics = tmp_path / "cal.ics"
    review(home, "export", "--format", "ics", "-o", str(ics))
    summaries = re.findall(r"^SUMMARY:(.*)$", ics.read_text(encoding="utf-8").replace(
        "\r\n ", ""), flags=re.M)
    same_topic = [s for s in summaries if TOPIC in s]
    assert len(same_topic) == 4 and len(set(same_topic)) == 4


# --- layout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_lists_fit_the_terminal_one_line_a_card(home: dict[str, str], columns: int) -> None:
    count = len(review_json(home, "cards"))
    due = len(review_json(home, "today"))
    some = review_json(home, "cards")[4]["id"]  # the long English title with notes
    for args, rows in ((["today"], due), (["cards"], count), (["show", str(some)], None),
                       (["reminders"], None), (["logs"], 1), (["config", "show"], None)):
        status, lines = screen(home, args, columns)
        assert status == 0, lines
        for line in lines:
            assert cell_width(line) <= columns, (args, columns, line)
            assert line == line.rstrip(), (args, line)
        if rows is not None:  # a header, then exactly one line per row
            header = next(n for n, line in enumerate(lines) if line.lstrip().startswith("id"))
            listed = [line for line in lines[header + 1:] if re.match(r"\s*\d+  ", line)]
            assert len(listed) == rows, (args, columns, lines)
    status, lines = screen(home, ["today"], columns)
    assert any("…" in line for line in lines)  # cut where too long


def test_piped_lists_are_tab_separated_without_styles(home: dict[str, str]) -> None:
    out = review(home, "cards").stdout
    lines = out.splitlines()
    assert lines[0].split("\t")[:2] == ["id", "topic"]
    assert all(len(line.split("\t")) == len(lines[0].split("\t")) for line in lines)
    assert "\x1b" not in out and "…" not in out  # nothing cut, nothing styled
    assert "📚 Reading: \"Attention Is All You Need\" and the annotated transformer, with a " \
           "long English title that goes on" in out


# --- what to do next --------------------------------------------------------------------------


def test_today_ends_with_the_next_step(home: dict[str, str]) -> None:
    lines = review(home, "today").stdout.splitlines()
    first = review_json(home, "today")[0]["id"]
    assert lines[-1].startswith("Next: review session, or review grade "
                                f"{first} good")


# --- undo per command -------------------------------------------------------------------------


def test_one_undo_takes_back_a_whole_spread(home: dict[str, str]) -> None:
    before = {card["id"]: card["due"] for card in review_json(home, "cards")}
    moved = review_json(home, "spread", "--days", "3")["moved"]
    assert len(moved) >= 2
    assert all(move["label"] for move in moved)
    undone = review_json(home, "undo")
    assert undone["also"] == len(moved) - 1
    assert {card["id"]: card["due"] for card in review_json(home, "cards")} == before
    # a grade after it is one command of its own
    card = moved[0]["id"]
    reviews = review_json(home, "show", str(card))["reviews"]
    review(home, "grade", str(card), "good")
    review(home, "grade", str(moved[1]["id"]), "hard")
    said = review(home, "undo").stdout
    assert "more changes" not in said
    assert review_json(home, "show", str(card))["reviews"] == reviews + 1  # the first stays


def test_spread_says_how_to_take_it_back(home: dict[str, str]) -> None:
    out = review(home, "spread", "--days", "3").stdout
    assert "review undo" in out
    assert "more changes made by the same command" in review(home, "undo").stdout


# --- session ----------------------------------------------------------------------------------


def test_session_shows_its_progress_and_goes_past_the_limit_with_all(
        home: dict[str, str]) -> None:
    due = len(review_json(home, "today", "--all"))
    assert due > 5  # more than max_reviews_per_day
    out = review(home, "session", stdin="g\n" * 5 + "q\n").stdout
    assert "1 of 5 · card" in out and "5 of 5 · card" in out
    assert "today's limit is reached ('review session --all' goes on)" in out
    more = review(home, "session", "--all", stdin="g\nq\n").stdout
    assert "1 of" in more and "Stopped: 1 graded." in more


def test_ctrl_c_ends_a_session_with_its_summary(home: dict[str, str]) -> None:
    """Ctrl-C (SIGINT) at the second card's prompt: the answer saved is counted."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([REVIEW, "session"], stdin=slave, stdout=slave, stderr=slave,
                            env={**home, "COLUMNS": "80"}, start_new_session=True)
    os.close(slave)
    os.write(master, b"g\n")
    received = b""
    deadline = time.monotonic() + 30
    while received.count(b"grade [") < 2 and time.monotonic() < deadline:
        ready, _w, _x = select.select([master], [], [], 0.2)
        if ready:
            received += os.read(master, 65536)
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    while True:
        ready, _w, _x = select.select([master], [], [], 0.5)
        try:
            chunk = os.read(master, 65536) if ready else b""
        except OSError:
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    assert b"Stopped: 1 graded." in received
    assert b"Traceback" not in received and b"Aborted" not in received
