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
    assert lines[0].split() == ["key", "value", "meaning"]
    starts = next(line for line in lines if line.startswith("day_starts_at "))
    retention = next(line for line in lines if line.startswith("desired_retention "))
    assert starts.split()[:3] == ["day_starts_at", "6", "hour"]
    assert retention.split()[:3] == ["desired_retention", "0.9", "(default)"]
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
    assert run("config", "set", "reminders.command", "notify-send [/] [red]").exit_code == 0
    result = run("config", "show")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("reminders.command"))
    assert line.split()[:3] == ["reminders.command", "notify-send", "[/]"]


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
