"""Tests of `review config` and of config.toml: defaults, validation, persistence."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from freezegun import freeze_time
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler

Run = Callable[..., Result]
RunJson = Callable[..., Any]
WriteLog = Callable[..., Path]

DEFAULTS = {
    "timezone": "UTC",  # set by the `run` fixture; otherwise the system's zone
    "day_starts_at": 4,
    "desired_retention": 0.9,
    "maximum_interval": 36500,
    "learning_steps": [],
    "relearning_steps": [],
    "fuzz": True,
    "max_reviews_per_day": 10,
    "max_minutes_per_day": None,  # no time budget
    "order": "retrievability",
    "score_thresholds": [60, 80, 95],
    "write_back": False,
    "log.done_words": [],
    "log.pending_words": [],
    "log.skip_words": ["休息", "休假", "放假", "假期", "请假", "rest", "rest day", "day off",
                       "break", "holiday", "travel", "vacation", "sick", "off", "downtime"],
    "reminders.digest_at": ["09:00"],
    "reminders.quiet_hours": "22:00-08:00",
    "reminders.channels": ["log"],
    "reminders.command": "",
    "language": "",
}


def config_file(srs_home: Path) -> Path:
    return srs_home / "config" / "config.toml"


def stored(srs_home: Path) -> dict[str, Any]:
    """What config.toml holds."""
    return tomllib.loads(config_file(srs_home).read_text(encoding="utf-8"))


def assert_one_line_error(result: Result, message: str) -> None:
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message}\n"
    assert "Traceback" not in result.output


# --- show, get, set, unset -----------------------------------------------------------------


def test_show_json_gives_every_key_with_its_default(run_json: RunJson) -> None:
    assert run_json("config", "show") == DEFAULTS


def test_show_marks_defaults_and_names_the_file(run: Run, srs_home: Path) -> None:
    assert run("config", "set", "day_starts_at", "6").exit_code == 0
    result = run("config", "show")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == ["key", "value", "", "meaning"]  # piped: tab-separated
    starts = next(line for line in lines if line.startswith("day_starts_at\t"))
    retention = next(line for line in lines if line.startswith("desired_retention\t"))
    assert starts.split("\t")[:3] == ["day_starts_at", "6", ""]
    assert retention.split("\t")[:3] == ["desired_retention", "0.9", "(default)"]
    assert lines[-1] == f"file: {config_file(srs_home)}"


@pytest.mark.parametrize(("key", "shown"), [
    ("timezone", "UTC"), ("day_starts_at", "4"), ("desired_retention", "0.9"),
    ("fuzz", "on"), ("learning_steps", ""), ("reminders.digest_at", "09:00"),
])
def test_get_prints_a_value_as_it_is_typed(run: Run, key: str, shown: str) -> None:
    result = run("config", "get", key)
    assert (result.exit_code, result.stdout) == (0, f"{shown}\n")


@pytest.mark.parametrize(("key", "typed", "echoed", "value"), [
    ("timezone", "Asia/Shanghai", "Asia/Shanghai", "Asia/Shanghai"),
    ("day_starts_at", "0", "0", 0),
    ("day_starts_at", "23", "23", 23),
    ("desired_retention", "0.7", "0.7", 0.7),
    ("desired_retention", "0.99", "0.99", 0.99),
    ("fuzz", "off", "off", False),
    ("learning_steps", "10m, 1h,1d", "10m,1h,1d", ["10m", "1h", "1d"]),
    ("reminders.digest_at", "8:30,20:00", "08:30,20:00", ["08:30", "20:00"]),
])
def test_set_stores_a_checked_value(run: Run, run_json: RunJson, key: str, typed: str,
                                    echoed: str, value: Any) -> None:
    result = run("config", "set", key, typed)
    assert (result.exit_code, result.stdout) == (0, f"{key} = {echoed}\n")
    assert run("config", "get", key).stdout == f"{echoed}\n"
    assert run_json("config", "show") == {**DEFAULTS, key: value}


def test_set_writes_config_toml(run: Run, srs_home: Path) -> None:
    assert run("config", "set", "desired_retention", "0.85").exit_code == 0
    assert run("config", "set", "reminders.digest_at", "08:30,20:00").exit_code == 0
    assert stored(srs_home) == {"timezone": "UTC", "desired_retention": 0.85,
                                "reminders": {"digest_at": ["08:30", "20:00"]}}


def test_show_prints_values_as_written(run: Run) -> None:
    assert run("config", "set", "reminders.command", "/bin/notify [/] [red]").exit_code == 0
    result = run("config", "show")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("reminders.command"))
    assert line.split()[:3] == ["reminders.command", "/bin/notify", "[/]"]


def test_unset_goes_back_to_the_default(run: Run, run_json: RunJson, srs_home: Path) -> None:
    assert run("config", "set", "day_starts_at", "6").exit_code == 0
    result = run("config", "unset", "day_starts_at")
    assert (result.exit_code, result.stdout) == (0, "day_starts_at = 4 (default)\n")
    assert stored(srs_home) == {"timezone": "UTC"}
    assert run_json("config", "show") == DEFAULTS


def test_a_hand_written_config_toml_is_read(run_json: RunJson, srs_home: Path) -> None:
    config_file(srs_home).write_text(
        'timezone = "Europe/Berlin"\nday_starts_at = 3\n\n[reminders]\nchannels = ["desktop"]\n',
        encoding="utf-8")
    assert run_json("config", "show") == {
        **DEFAULTS, "timezone": "Europe/Berlin", "day_starts_at": 3,
        "reminders.channels": ["desktop"]}


@freeze_time("2025-06-01 08:00:00")
def test_desired_retention_is_used_for_scheduling(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    assert run("config", "set", "desired_retention", "0.8").exit_code == 0
    assert run("config", "set", "fuzz", "off").exit_code == 0
    log = write_log("| Topic | Date | Self-test |\n|---|---|---|\n"
                    "| 回归 Regression | 2025-03-01 | 2025-03-05 |\n")
    assert run("import", str(log)).exit_code == 0
    scheduler = Scheduler(desired_retention=0.8, learning_steps=(), relearning_steps=(),
                          enable_fuzzing=False)
    expected = FsrsCard(card_id=1)
    for day in (1, 5):
        expected, _log = scheduler.review_card(
            expected, Rating.Good, datetime(2025, 3, day, 12, tzinfo=timezone.utc))
    assert run_json("show", "1")["due"] == expected.due.date().isoformat()


def fsrs_after(days: list[str], desired_retention: float = 0.9) -> FsrsCard:
    """py-fsrs's card after a Good on each study day (at noon, as srs anchors a day)."""
    scheduler = Scheduler(desired_retention=desired_retention, learning_steps=(),
                          relearning_steps=(), enable_fuzzing=False)
    card = FsrsCard(card_id=1)
    for day in days:
        card, _log = scheduler.review_card(
            card, Rating.Good, datetime.fromisoformat(day).replace(hour=12, tzinfo=timezone.utc))
    return card


@freeze_time("2026-11-30 12:00:00")
def test_a_clock_setting_replays_every_card_with_the_file_write(
        db_url: str, run: Run, run_json: RunJson, write_log: WriteLog,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    assert run("config", "set", "fuzz", "off").exit_code == 0
    log = write_log("| Topic | Date | Self-test |\n|---|---|---|\n"
                    "| One | 2026-11-01 | 2026-11-05 |\n| Two | 2026-11-20 | |\n")
    assert run("import", str(log)).exit_code == 0
    # 02:30 is the study day before while days start at 04:00, its own day at 00:00.
    assert run("grade", "2", "good", "--at", "2026-11-24 02:30").exit_code == 0
    before = run_json("cards")
    expected = fsrs_after(["2026-11-20", "2026-11-23"])
    assert (before[1]["due"], before[1]["stability"]) == (
        expected.due.date().isoformat(), expected.stability)

    def full_disk(*_args: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:  # config.toml cannot be written: no replay either
        patch.setattr(os, "replace", full_disk)
        failed = run("config", "set", "day_starts_at", "0")
    assert failed.exit_code == 1
    assert run_json("cards") == before

    changed = run("config", "set", "day_starts_at", "0")
    assert changed.stdout.splitlines() == [
        "day_starts_at = 0", "every card replayed with the new study days; 1 due date moved"]
    after = run_json("cards")
    expected = fsrs_after(["2026-11-20", "2026-11-24"])
    assert (after[1]["due"], after[1]["stability"]) == (
        expected.due.date().isoformat(), expected.stability)
    assert after[0] == before[0]  # reviewed at noon: the same study days either way
    assert "replayed" not in run("today").stderr  # the database follows the new clock


@freeze_time("2026-11-30 12:00:00")
def test_a_scheduling_setting_replays_every_card(
        db_url: str, run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    assert run("config", "set", "fuzz", "off").exit_code == 0
    log = write_log("| Topic | Date | Self-test |\n|---|---|---|\n"
                    "| One | 2026-11-01 | 2026-11-05 |\n")
    assert run("import", str(log)).exit_code == 0
    changed = run("config", "set", "desired_retention", "0.8")
    assert changed.stdout.splitlines() == [
        "desired_retention = 0.8",
        "every card replayed with the new desired_retention; 1 due date moved"]
    expected = fsrs_after(["2026-11-01", "2026-11-05"], desired_retention=0.8)
    assert run_json("show", "1")["due"] == expected.due.date().isoformat()


# --- bad keys and values -------------------------------------------------------------------


@pytest.mark.parametrize(("key", "value", "message"), [
    ("colour", "blue", "unknown setting 'colour' (see 'review config show')"),
    ("day_starts_at", "24", "bad value 24 for day_starts_at: expected a whole number from 0 to 23"),
    ("day_starts_at", "-1", "bad value -1 for day_starts_at: expected a whole number from 0 to 23"),
    ("day_starts_at", "4.5",
     "bad value '4.5' for day_starts_at: expected a whole number from 0 to 23"),
    ("desired_retention", "0.5",
     "bad value 0.5 for desired_retention: expected a number from 0.7 to 0.99"),
    ("desired_retention", "abc",
     "bad value 'abc' for desired_retention: expected a number from 0.7 to 0.99"),
    ("desired_retention", "nan",
     "bad value nan for desired_retention: expected a number from 0.7 to 0.99"),
    ("timezone", "Mars/Base",
     "bad value 'Mars/Base' for timezone: expected an IANA zone name such as Asia/Shanghai"),
    ("timezone", "Asia",
     "bad value 'Asia' for timezone: expected an IANA zone name such as Asia/Shanghai"),
    ("timezone", "../etc/passwd",
     "bad value '../etc/passwd' for timezone: expected an IANA zone name such as Asia/Shanghai"),
    ("fuzz", "maybe", "bad value 'maybe' for fuzz: expected on or off"),
    ("reminders.digest_at", "08:30,25:00", "bad value ['08:30', '25:00'] for "
     "reminders.digest_at: expected local times such as 09:00,20:30"),
])
def test_set_rejects_a_bad_key_or_value(run: Run, srs_home: Path, key: str, value: str,
                                        message: str) -> None:
    before = config_file(srs_home).read_bytes()
    assert_one_line_error(run("config", "set", "--", key, value), message)
    assert config_file(srs_home).read_bytes() == before


@pytest.mark.parametrize("command", ["get", "unset"])
def test_get_and_unset_reject_an_unknown_key(run: Run, command: str) -> None:
    assert_one_line_error(run("config", command, "colour"),
                          "unknown setting 'colour' (see 'review config show')")


def test_config_toml_that_is_not_toml(run: Run, srs_home: Path) -> None:
    path = config_file(srs_home)
    path.write_text("timezone = \n", encoding="utf-8")
    for args in (("config", "show"), ("cards",), ("config", "set", "fuzz", "off")):
        result = run(*args)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"Error: {path} is not valid TOML: ")
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.output
    assert path.read_text(encoding="utf-8") == "timezone = \n"


@pytest.mark.parametrize(("text", "message"), [
    ("colour = 'blue'\n", "unknown setting 'colour' in {path}"),
    ("day_starts_at = 30\n",
     "bad value 30 for day_starts_at: expected a whole number from 0 to 23"),
    ("day_starts_at = '4'\n",
     "bad value '4' for day_starts_at: expected a whole number from 0 to 23"),
    ("timezone = 'Mars/Base'\n",
     "bad value 'Mars/Base' for timezone: expected an IANA zone name such as Asia/Shanghai"),
])
def test_config_toml_with_a_bad_setting(run: Run, srs_home: Path, text: str,
                                        message: str) -> None:
    path = config_file(srs_home)
    path.write_text(text, encoding="utf-8")
    assert_one_line_error(run("config", "show"), message.format(path=path))


# --- reminders.command: the daemon runs in / -----------------------------------------------


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH of one folder holding an executable `notify`."""
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "notify"
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    return folder


@pytest.mark.parametrize("command", ["notify", "notify --urgency low", "/opt/bin/notify.sh",
                                     "'/opt/my tools/notify' -t"])
def test_a_command_on_path_or_absolute_is_accepted(run: Run, srs_home: Path, on_path: Path,
                                                    command: str) -> None:
    result = run("config", "set", "reminders.command", command)
    assert (result.exit_code, result.stdout) == (0, f"reminders.command = {command}\n")
    assert stored(srs_home)["reminders"] == {"command": command}


@pytest.mark.parametrize(("command", "message"), [
    ("./notify.sh", "reminders.command './notify.sh' is a relative path and the daemon runs "
                    "in /; give an absolute path such as {cwd}/notify.sh"),
    ("bin/notify --urgency low", "reminders.command 'bin/notify' is a relative path and the "
                                 "daemon runs in /; give an absolute path such as "
                                 "{cwd}/bin/notify"),
    ("~/notify", "reminders.command '~/notify' is a relative path and the daemon runs in /; "
                 "give an absolute path such as {home}/notify"),
    ("nowhere-notify", "reminders.command 'nowhere-notify' is not found on PATH; "
                       "give an absolute path to the program"),
    ("'/opt/notify", "cannot read reminders.command \"'/opt/notify\": No closing quotation"),
])
def test_a_command_the_daemon_would_not_find_is_refused(
        run: Run, srs_home: Path, on_path: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, command: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    before = config_file(srs_home).read_bytes()
    assert_one_line_error(run("config", "set", "reminders.command", command),
                          message.format(cwd=tmp_path, home=Path.home()))
    assert config_file(srs_home).read_bytes() == before


# --- writes: under a lock, in one step -----------------------------------------------------

REVIEW = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "review"


def test_parallel_sets_of_different_keys_all_land(tmp_path: Path) -> None:
    import os
    import subprocess

    home = tmp_path / "parallel-home"
    env = dict(os.environ, SRS_HOME=str(home), TZ="UTC")
    env.pop("SRS_DATABASE_URL", None)
    values = {"desired_retention": [f"0.{n}" for n in (*range(71, 80), 81)],
              "max_reviews_per_day": [str(11 + i) for i in range(10)],
              "reminders.digest_at": [f"08:{i:02d}" for i in range(10)]}
    calls = [(key, typed) for i in range(10) for key, typed in
             ((key, choices[i]) for key, choices in values.items())]
    procs = [subprocess.Popen([str(REVIEW), "config", "set", key, typed], env=env,
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for key, typed in calls]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    outcomes = [(proc.returncode, out, err) for proc, (out, err)
                in zip(procs, outputs, strict=True)]

    assert len(calls) == 30
    assert outcomes == [(0, f"{key} = {typed}\n", "") for key, typed in calls]
    final = stored(home)
    assert sorted(final) == ["desired_retention", "max_reviews_per_day", "reminders"]
    assert sorted(final["reminders"]) == ["digest_at"]
    assert str(final["desired_retention"]) in values["desired_retention"]
    assert str(final["max_reviews_per_day"]) in values["max_reviews_per_day"]
    assert final["reminders"]["digest_at"][0] in values["reminders.digest_at"]
    folder = config_file(home).parent
    assert sorted(p.name for p in folder.iterdir()) == [".config.toml.lock", "config.toml"]
    assert {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()} == {
        ".config.toml.lock": 0o600, "config.toml": 0o600}


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_write_leaves_config_toml_as_it_was(
        run: Run, srs_home: Path, monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    import errno
    import os

    assert run("config", "set", "day_starts_at", "6").exit_code == 0
    path = config_file(srs_home)
    before = path.read_bytes()

    def full_disk(*_args: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:  # SRS_HOME stays set after it
        patch.setattr(os, failing, full_disk)
        result = run("config", "set", "fuzz", "off")

    assert_one_line_error(result, f"cannot write {path}: No space left on device")
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [".config.toml.lock", "config.toml"]
    assert run("config", "get", "fuzz").stdout == "on\n"


def test_a_set_keeps_a_change_another_command_made_since_this_one_read_the_file(
        srs_home: Path) -> None:
    from srs.config import load

    path = config_file(srs_home)
    mine = load(path)  # read before the other command writes
    load(path).set("desired_retention", "0.8")
    mine.set("fuzz", "off")
    assert stored(srs_home) == {"desired_retention": 0.8, "fuzz": False}
    assert (mine["desired_retention"], mine["fuzz"]) == (0.8, False)


def test_a_symlinked_config_toml_is_written_through_to_its_file(run: Run, srs_home: Path,
                                                                tmp_path: Path) -> None:
    kept = tmp_path / "dotfiles" / "srs.toml"
    kept.parent.mkdir()
    kept.write_text('timezone = "UTC"\n', encoding="utf-8")
    link = srs_home / "config" / "config.toml"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(kept)
    assert run("config", "set", "max_reviews_per_day", "7").exit_code == 0
    assert link.is_symlink()
    assert tomllib.loads(kept.read_text(encoding="utf-8"))["max_reviews_per_day"] == 7
