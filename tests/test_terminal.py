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
from terminal import REVIEW, SGR, home_with, in_terminal

from cli.main import cli
from srs.text import cell_width

TOPIC = "机器学习统计"
LONG = ('📚 Reading: "Attention Is All You Need" and the annotated transformer, with a long '
        "English title that goes on")
DETAIL = "手搓一个Transformer基础版，Encoder 与 Decoder 的实现细节"
LOG = f"""# 学习记录 2026

## 第一周 统计学习方法

| 日期 | 章节 | 状态 | 备注 | 自测 |
|------|------|------|------|------|
| 2026-10-01 | {TOPIC} | ✅ | 感知机，模型、策略、对偶形式<br>第二行 | ✅ 2026-10-04 |
| 2026-10-02 | {TOPIC} | ✅ | KNN，kd 树的构造与搜索 | ❌ 2026-10-05 |
| 2026-10-03 | {TOPIC} | ✅ | | ✅ 2026-10-06 |
| 2026-10-04 | {TOPIC} | ✅ | | ✅ 2026-10-07 |
| 2026-10-05 | {LONG} | ✅ | notes [with brackets] and more words to fill a line | ✅ 2026-10-08 |
| 2026-10-06 | 自注意力机制 [多头] ✅ | ✅ | {DETAIL} | ✅ 2026-10-09 |
| 2026-10-07 | 反向传播 | ✅ | 链式法则 | ✅ 2026-10-10 |
"""


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """A home with the log above imported, as the environment of `review`."""
    return home_with(tmp_path, LOG, 'timezone = "UTC"\nmax_reviews_per_day = 5\n')


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


# --- times ------------------------------------------------------------------------------------


def test_the_daemon_log_is_timed_in_the_configured_zone() -> None:
    import logging
    from zoneinfo import ZoneInfo

    from scheduler.daemon import _ZoneFormatter

    record = logging.LogRecord("srs", logging.INFO, __file__, 1, "sent", None, None)
    record.created = 1796032800.0  # 2026-11-30 10:00 UTC
    line = _ZoneFormatter(ZoneInfo("Asia/Shanghai")).format(record)
    assert line.startswith("2026-11-30 18:00:00+0800 INFO sent")


def test_show_gives_days_and_times_one_way(home: dict[str, str]) -> None:
    card = review_json(home, "cards")[1]
    lines = review(home, "show", str(card["id"])).stdout.splitlines()
    due = next(line for line in lines if line.strip().startswith("due:"))
    assert re.search(r"due: \w{3} (\d{4}-)?\d\d-\d\d$", due)  # a weekday and a short date
    history = lines[lines.index("history") + 2].split("\t")
    assert re.fullmatch(r"(\d{4}-)?\d\d-\d\d \d\d:\d\d", history[0])  # local, short


# --- clear words ------------------------------------------------------------------------------


def test_a_database_in_a_missing_folder_is_refused(home: dict[str, str],
                                                   tmp_path: Path) -> None:
    target = tmp_path / "no such folder" / "deeper" / "x.db"
    done = subprocess.run([REVIEW, "--db", f"sqlite:///{target}", "today"], env=home,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and f"no folder {target.parent}" in done.stderr
    assert not (tmp_path / "no such folder").exists()


def test_restore_counts_cards_and_reviews_in_words(home: dict[str, str],
                                                   tmp_path: Path) -> None:
    backup = tmp_path / "backup.json"
    review(home, "export", "-o", str(backup))
    other = {**home, "SRS_HOME": str(tmp_path / "other")}
    said = review(other, "restore", str(backup)).stdout.splitlines()[0]
    assert said == f"restored {backup}: 7 cards, 14 reviews, 1 log"


def test_a_digest_held_back_by_the_limit_says_so(home: dict[str, str]) -> None:
    runner = CliRunner()
    env = {**home}
    with freeze_time("2026-12-03 05:00:00"):  # before the 09:00 digest: five self-tests
        queue = json.loads(runner.invoke(cli, ["today", "--json"], env=env).stdout)
        for card in queue:
            assert runner.invoke(cli, ["grade", str(card["id"]), "good"], env=env).exit_code == 0
    with freeze_time("2026-12-03 10:00:00"):
        assert runner.invoke(cli, ["remind"], env=env).exit_code == 0
        ledger = json.loads(runner.invoke(cli, ["reminders", "--json"], env=env).stdout)
    [digest] = [row for row in ledger if row["kind"] == "digest"]
    assert digest["status"] == "skipped"
    assert digest["detail"] == "today's limit is reached (2 more due: review today --all)"


# --- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_complete_commands(home: dict[str, str], shell: str) -> None:
    script = review(home, "completion", shell).stdout
    assert "_REVIEW_COMPLETE" in script
    done = subprocess.run([REVIEW], env={**home, "_REVIEW_COMPLETE": "bash_complete",
                                         "COMP_WORDS": "review tod", "COMP_CWORD": "1"},
                          capture_output=True, text=True, timeout=60, check=False)
    assert "plain,today" in done.stdout.splitlines()


def test_open_starts_the_editor_at_the_cards_row(home: dict[str, str],
                                                 tmp_path: Path) -> None:
    said = tmp_path / "editor-args"
    editor = tmp_path / "editor"
    editor.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {said}\n', encoding="utf-8")
    editor.chmod(0o755)
    card = review_json(home, "cards")[2]
    path, line = card["source"].rsplit(":", 1)
    review({**home, "EDITOR": str(editor), "VISUAL": ""}, "open", str(card["id"]))
    assert said.read_text(encoding="utf-8").splitlines() == [f"+{line}", path]
    review({**home, "VISUAL": f"{editor} --wait"}, "open", str(card["id"]))
    assert said.read_text(encoding="utf-8").splitlines() == ["--wait", f"+{line}", path]
    gone = subprocess.run([REVIEW, "open", str(card["id"])],
                          env={**home, "EDITOR": "", "VISUAL": ""}, capture_output=True,
                          text=True, timeout=60, check=False)
    assert gone.returncode == 1 and "set VISUAL or EDITOR" in gone.stderr


def test_long_lists_page_on_a_terminal_and_not_with_no_pager(home: dict[str, str]) -> None:
    env = {**home, "PAGER": "sed s/^/PAGED:/"}
    status, lines = screen(env, ["cards"], 80, )
    assert status == 0 and not any(line.startswith("PAGED:") for line in lines)  # it fits
    status, output = in_terminal(["cards"], env=env, columns=80, rows=6)
    assert status == 0 and output.count(b"PAGED:") == 8  # header and 7 cards, paged
    status, output = in_terminal(["--no-pager", "cards"], env=env, columns=80, rows=6)
    assert status == 0 and b"PAGED:" not in output


def test_the_log_channel_says_each_topic_once_without_double_bullets(
        caplog: pytest.LogCaptureFixture) -> None:
    from srs.channels import Notice, send_log

    body = f"• {TOPIC} · KNN\n• 反向传播\n2 more due beyond today's limit"
    with caplog.at_level("INFO"):
        send_log(Notice("5 self-tests due today", body, {}))
    said = caplog.records[-1].getMessage()
    assert said == (f"reminder: 5 self-tests due today — {TOPIC} · KNN · 反向传播 · "
                    "2 more due beyond today's limit")


def test_undo_takes_a_merge_back(home: dict[str, str]) -> None:
    cards = {card["id"]: card for card in review_json(home, "cards")}
    same = sorted(card_id for card_id, card in cards.items() if card["topic"] == TOPIC)
    source, into = same[0], same[1]
    before = {card_id: (card["due"], card["stability"], card["reviews"])
              for card_id, card in cards.items()}
    review(home, "grade", str(into), "hard")  # a grade before the merge
    graded = {card["id"]: (card["due"], card["stability"], card["reviews"])
              for card in review_json(home, "cards")}
    review(home, "merge", str(source), str(into))
    assert source not in {card["id"] for card in review_json(home, "cards")}
    said = review(home, "undo").stdout
    assert f"undid the merge of card {source}" in said and f"into card {into}" in said
    after = {card["id"]: (card["due"], card["stability"], card["reviews"])
             for card in review_json(home, "cards")}
    assert after == graded  # both cards as they were before the merge
    review(home, "undo")  # then the grade, as before
    assert {card["id"]: (card["due"], card["stability"], card["reviews"])
            for card in review_json(home, "cards")} == before


@pytest.mark.parametrize("columns", [60, 80])
def test_chinese_output_fits_the_terminal(home: dict[str, str], columns: int) -> None:
    env = {**home, "LANG": "zh_CN.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}
    some = review_json(home, "cards")[0]["id"]
    for args in (["today"], ["cards"], ["show", str(some)], ["stats"], ["forecast"], ["logs"]):
        status, lines = screen(env, args, columns)
        assert status == 0, lines
        assert any("\u4e00" <= char <= "\u9fff" for line in lines for char in line)
        for line in lines:
            assert cell_width(line) <= columns, (args, columns, line)
