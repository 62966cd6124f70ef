"""The command line driven at random with random and hostile arguments.

After every step: the command exited 0, or 1 or 2 with one line on stderr and no traceback;
and `review check` finds the database whole, every card's state what its history gives.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from cli.main import cli

HOSTILE = st.sampled_from([
    "[bold]x[/bold]", "path [/usr/bin]", "\x1b]52;c;aGk=\x07", "\x1b[2J", "a\rb", "\u202eevil",
    "\u200b", "[Lecture 3](http://x)", "向量 Vectors", "'; DROP TABLE card; --", "|", "\\|",
    "x" * 300, "", " ", "%s %d {0}", "\x00", "\ud800",
])
TEXT = st.one_of(HOSTILE, st.text(max_size=30))
NUMBER = st.one_of(st.integers(-3, 12).map(str), st.sampled_from([
    "0", "-1", "99999999999999999999", "9223372036854775808", "1e9", "abc", "", "٣"]))
DAY = st.one_of(st.dates().map(str), st.sampled_from([
    "2026-11-30", "+3d", "+0d", "+99999999d", "9999-12-31", "0001-01-01", "1969-12-31",
    "2026-02-30", "today", "", "2026/12/01"]))
RECENT = st.dates(date(2024, 1, 1), date(2026, 11, 30)).map(str)
CARD = st.one_of(st.integers(1, 5).map(str), st.integers(1, 5).map(str), NUMBER)
GOOD_RATING = st.sampled_from(["again", "hard", "good", "easy", "1", "4", "g", "7/10", "70%"])
RATING = st.one_of(GOOD_RATING, GOOD_RATING, st.sampled_from(
    ["5", "0", "1e999/1e999", "-3", "11/10", "nan%"]), TEXT)
SETTING = st.sampled_from([
    ("max_reviews_per_day", NUMBER), ("learning_steps", st.sampled_from(
        ["1h,1d", "99999999999999d", "1h,3000000d", "none", "10m", "0s", "x"])),
    ("desired_retention", st.sampled_from(["0.9", "0.5", "1", "nan", "inf", "-0"])),
    ("write_back", st.sampled_from(["on", "off", "maybe"])),
    ("log.done_words", TEXT), ("timezone", st.sampled_from(
        ["UTC", "Asia/Shanghai", "Pacific/Kiritimati", "Mars/Base", "../../etc/passwd"])),
    ("day_starts_at", NUMBER), ("order", st.sampled_from(["due", "random", "bogus"])),
])


def _row(day: str, topic: str, test: str) -> str:
    return f"| {day} | {topic} | {test} |"


class CommandLine(RuleBasedStateMachine):
    """One person's data folder, driven one command at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.home = Path(tempfile.mkdtemp(prefix="srs-stateful-"))
        (self.home / "config").mkdir()
        (self.home / "config" / "config.toml").write_text('timezone = "UTC"\n')
        self.runner = CliRunner()
        self.logs: list[Path] = []
        self.backup = self.home / "backup.json"

    def teardown(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def review(self, *args: str, input: str | None = None) -> Result:
        result = self.runner.invoke(cli, list(args), input=input, catch_exceptions=False,
                                    env={"SRS_HOME": str(self.home), "TZ": "UTC",
                                         "SRS_DATABASE_URL": None})
        output = result.stdout + result.stderr
        if os.environ.get("STATEFUL_TRACE"):  # a file to list every step in, to look at
            with open(os.environ["STATEFUL_TRACE"], "a", encoding="utf-8") as trace:
                trace.write(f"{args!r} -> {result.exit_code} {result.stderr[:150]!r}\n")
        assert "Traceback" not in output, output
        assert "internal error" not in output, output
        assert result.exit_code in (0, 1, 2), (args, result.exit_code, output)
        if result.exit_code:
            lines = result.stderr.splitlines()
            assert len(lines) == 1 and lines[0].startswith("Error: "), (args, result.stderr)
        return result

    @initialize(topics=st.lists(HOSTILE, min_size=4, max_size=4))
    def start_with_a_log(self, topics: list[str]) -> None:
        """A log of four studied rows, so grades and moves have cards to work on."""
        rows = [(f"2026-11-0{n + 1}", f"{n} {topic}", f"2026-11-{n + 10}")
                for n, topic in enumerate(topics)]
        self.import_log(rows, "start.md")

    @rule(rows=st.lists(st.tuples(st.one_of(RECENT, RECENT, DAY), TEXT,
                                  st.one_of(RECENT, DAY, TEXT, st.just(""))),
                        min_size=1, max_size=6),
          name=st.sampled_from(["log.md", "日志 [1].md", "other.md"]))
    def import_log(self, rows: list[tuple[str, str, str]], name: str) -> None:
        path = self.home / name
        body = "\n".join(_row(*row) for row in rows)
        text = f"## Week [1] \x1b[31m\n\n| date | topic | self-test |\n|---|---|---|\n{body}\n"
        path.write_text(text.encode("utf-8", "replace").decode("utf-8"), encoding="utf-8",
                        errors="replace")
        self.logs.append(path)
        self.review("import", str(path))

    @rule(topic=TEXT, notes=TEXT, learned=st.one_of(st.none(), RECENT, DAY))
    def add(self, topic: str, notes: str, learned: str | None) -> None:
        extra = ["--learned", learned] if learned is not None else []
        self.review("add", topic, "--notes", notes, *extra)

    @rule(card=CARD, rating=RATING, note=st.one_of(st.none(), TEXT),
          at=st.one_of(st.none(), DAY), back=st.booleans())
    def grade_anyhow(self, card: str, rating: str, note: str | None, at: str | None,
                     back: bool) -> None:
        args = ["grade", card, rating]
        args += ["--note", note] if note is not None else []
        args += ["--at", at] if at is not None else []
        args += ["--write-back"] if back else []
        self.review(*args)

    @rule(card=st.integers(1, 6), rating=GOOD_RATING, note=st.one_of(st.none(), HOSTILE),
          back=st.booleans())
    def grade(self, card: int, rating: str, note: str | None, back: bool) -> None:
        self.review("grade", str(card), rating, *(["--note", note] if note else []),
                    *(["--write-back"] if back else []))

    @rule(card=st.integers(1, 6), days=st.integers(0, 400))
    def set_due_ahead(self, card: int, days: int) -> None:
        self.review("set-due", str(card), f"+{days}d")

    @rule()
    def undo(self) -> None:
        self.review("undo")

    @rule(card=CARD, day=DAY)
    def set_due(self, card: str, day: str) -> None:
        self.review("set-due", card, day)

    @rule(days=NUMBER, dry=st.booleans())
    def spread(self, days: str, dry: bool) -> None:
        self.review("spread", "--days", days, *(["--dry-run"] if dry else []))

    @rule(card=CARD, back=st.booleans())
    def suspend(self, card: str, back: bool) -> None:
        self.review("unsuspend" if back else "suspend", card)

    @rule(source=CARD, into=CARD)
    def merge_anyhow(self, source: str, into: str) -> None:
        self.review("merge", source, into)

    @rule(source=st.integers(1, 6), into=st.integers(1, 6))
    def merge(self, source: int, into: int) -> None:
        self.review("merge", str(source), str(into))

    @rule(answers=st.lists(st.sampled_from(["g", "a", "s", "u", "?", "7/10", "q", "zz"]),
                           max_size=5))
    def session(self, answers: list[str]) -> None:
        self.review("session", "--limit", "3", input="\n".join(answers) + "\n")

    @rule(setting=SETTING, data=st.data())
    def config_set(self, setting: tuple[str, st.SearchStrategy[str]], data: st.DataObject) -> None:
        key, values = setting
        self.review("config", "set", key, data.draw(values))

    @rule(replace=st.booleans(), spoil=st.sampled_from([None, "stability", "rating", "id"]))
    def export_and_restore(self, replace: bool, spoil: str | None) -> None:
        exported = self.review("export")
        if exported.exit_code:
            return
        backup = json.loads(exported.stdout)
        card = backup["tables"]["card"]
        if spoil is not None and card["rows"]:
            column = {"stability": "stability", "id": "id"}.get(spoil)
            if column is not None:
                card["rows"][0][card["columns"].index(column)] = -1
            else:
                review = backup["tables"]["review"]
                if review["rows"]:
                    review["rows"][0][review["columns"].index("rating")] = 9
        self.backup.write_text(json.dumps(backup), encoding="utf-8")
        self.review("restore", str(self.backup), *(["--replace"] if replace else []))

    @rule(args=st.sampled_from([["today"], ["today", "--all"], ["cards"], ["stats"],
                                ["forecast"], ["logs"], ["show", "1"], ["remind", "--dry-run"],
                                ["today", "--json"], ["cards", "--search", "["]]))
    def look(self, args: list[str]) -> None:
        self.review(*args)

    @invariant()
    def whole(self) -> None:
        if not (self.home / "data" / "srs.db").exists():
            return
        result = self.review("check")
        assert result.exit_code == 0, result.stdout


CommandLine.TestCase.settings = settings(
    max_examples=int(os.environ.get("STATEFUL_EXAMPLES", "50")), stateful_step_count=20,
    deadline=None, database=None, derandomize=not os.environ.get("STATEFUL_EXAMPLES"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_the_command_line_survives_random_and_hostile_use = CommandLine.TestCase
