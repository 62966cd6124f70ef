"""Messages in English and Chinese.

The zh_CN catalogue holds every message the sources mark, every help text of every command and
click's own messages, each translated with the message's placeholders; the main commands run
under LANG=zh_CN.UTF-8 leave no English sentence; `config set language` switches; English
counts are singular for one; and a built wheel carries the compiled catalogue.
"""

from __future__ import annotations

import gettext
import importlib.util
import io
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import click
import pytest
from click.testing import Result
from freezegun import freeze_time

from cli.language import help_texts
from cli.main import COMMANDS, cli
from srs import i18n
from srs.config import KEYS

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "srs" / "locale" / "zh_CN" / "LC_MESSAGES" / "srs.po"
MO = PO.with_suffix(".mo")
REVIEW = str(Path(sys.executable).with_name("review"))


def messages_script() -> ModuleType:
    """scripts/messages.py, which extracts the messages (with Babel) and checks catalogues."""
    spec = importlib.util.spec_from_file_location("messages", ROOT / "scripts" / "messages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def messages() -> ModuleType:
    return messages_script()


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """A test that switches this process to Chinese leaves it in English."""
    yield
    i18n.use(i18n.ENGLISH)


def chinese() -> gettext.GNUTranslations:
    with MO.open("rb") as mo:
        return gettext.GNUTranslations(mo)


# --- (1) the catalogue is complete ----------------------------------------------------------

def test_every_message_help_text_and_click_message_is_translated(messages: ModuleType) -> None:
    wanted = messages.template()
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in wanted if m.id}
    # The template holds all three kinds: marked messages (plural ones too), help texts and
    # click's own words.
    assert {"no card {id} (see 'review cards')", "{n} review added", "Print JSON.",
            "Usage:", "Show this message and exit."} <= ids
    assert len(ids) > 600
    assert messages.problems(messages.read(PO), wanted) == []


def test_the_check_finds_a_missing_an_untranslated_and_a_wrong_entry(
        messages: ModuleType) -> None:
    wanted = messages.template()
    catalog = messages.read(PO)
    before = set(messages.problems(catalog, wanted))
    catalog["no card {id} (see 'review cards')"].string = ""
    catalog["wrote {path}"].string = "已写入 {file}"
    del catalog["Print JSON."]
    assert sorted(set(messages.problems(catalog, wanted)) - before) == [
        "missing: 'Print JSON.'",
        "placeholders differ: 'wrote {path}' -> '已写入 {file}'",
        "untranslated: \"no card {id} (see 'review cards')\"",
    ]


def all_commands() -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(cli)
    yield "review", cli
    for name in sorted(COMMANDS):
        command = cli.get_command(ctx, name)
        assert command is not None
        yield f"review {name}", command


@pytest.mark.parametrize(("name", "command"), list(all_commands()), ids=lambda v: str(v))
def test_every_help_text_of_every_command_is_in_the_catalogue(name: str,
                                                             command: click.Command) -> None:
    translations = chinese()
    texts = help_texts(command)
    assert texts, name
    for text in texts:
        translated = translations.gettext(text)
        assert translated != text, f"{name}: help text not translated: {text!r}"
        assert re.search(r"[\u4e00-\u9fff]", translated), (name, translated)


def test_the_compiled_catalogue_is_the_po_file() -> None:
    """The .mo the commands read is compiled from the .po as it is now (building or
    installing the package compiles it; so does `scripts/messages.py`)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with PO.open("rb") as source:
        catalog = read_po(source, locale="zh_CN")
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    assert MO.exists() and MO.read_bytes() == compiled.getvalue(), (
        "srs.mo is older than srs.po: run `.venv/bin/python scripts/messages.py` or "
        "`pip install -e .`")


# --- choosing the language -----------------------------------------------------------------

@pytest.mark.parametrize(("environ", "language"), [
    ({}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
    ({"LANG": "zh_CN.utf8"}, "zh_CN"),
    ({"LANG": "zh"}, "zh_CN"),
    ({"LANG": "zh_Hans"}, "zh_CN"),
    ({"LANG": "zh-CN"}, "zh_CN"),
    ({"LANG": "fr_FR.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "zh_TW.UTF-8"}, "en"),
    ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh_CN"),
    ({"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "en"),
    ({"LANGUAGE": "zh_CN:en", "LC_ALL": "en_US.UTF-8"}, "zh_CN"),
    ({"LANGUAGE": "fr:zh_CN", "LANG": "en_US.UTF-8"}, "zh_CN"),
    ({"LANGUAGE": "en", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LANGUAGE": "", "LANG": "zh_CN.UTF-8"}, "zh_CN"),
    ({"LANGUAGE": "fr", "LANG": "zh_CN.UTF-8"}, "en"),
])
def test_the_environment_picks_the_language_as_gettext_reads_it(environ: dict[str, str],
                                                                language: str) -> None:
    assert i18n.from_environment(environ) == language


def test_the_configured_language_wins_over_the_environment() -> None:
    assert i18n.choose("en", {"LANG": "zh_CN.UTF-8"}) == "en"
    assert i18n.choose("zh_CN", {"LANG": "en_US.UTF-8"}) == "zh_CN"
    assert i18n.choose(None, {"LANG": "zh_CN.UTF-8"}) == "zh_CN"
    assert i18n.choose("", {"LANG": "zh_CN.UTF-8"}) == "zh_CN"


def test_days_read_as_a_person_reads_them_in_both_languages() -> None:
    today = date(2026, 12, 3)
    assert i18n.day_label(date(2026, 12, 2), today) == "Wed 12-02"
    assert i18n.day_label(date(2025, 12, 2), today) == "Tue 2025-12-02"
    i18n.use(i18n.CHINESE)
    assert i18n.day_label(date(2026, 12, 2), today) == "12月2日 周三"
    assert i18n.day_label(date(2026, 1, 11), today) == "1月11日 周日"
    assert i18n.day_label(date(2025, 12, 2), today) == "2025年12月2日 周二"
    assert i18n._("no card {id} (see 'review cards')") == "没有卡片 {id}（见 'review cards'）"
    assert i18n.ngettext("{n} review added", "{n} reviews added", 1) == "新增 {n} 条复习记录"
    i18n.use(i18n.ENGLISH)
    assert i18n.day_label(date(2026, 12, 2), today) == "Wed 12-02"


# --- (2) the commands in Chinese -------------------------------------------------------------

# Words that make a run of ASCII words a sentence.
_STOPWORDS = {"a", "an", "the", "is", "are", "was", "be", "of", "to", "and", "or", "with",
              "for", "in", "on", "at", "by", "from", "not", "no", "this", "that", "it", "its",
              "has", "have", "will", "would", "can", "if", "as", "than", "more", "when", "what",
              "which", "every", "nothing", "there", "yet", "you", "your", "see", "use"}
# Names a person types, never a sentence: commands, ratings, setting names and values.
_NAMES = {"review", "again", "hard", "good", "easy", "retrievability", "log", "random",
          "desktop", "command", "digest", *KEYS}
# The words of a command line after `review` (`review config set`).
_COMMAND_WORDS = {*COMMANDS, "show", "set", "get", "unset", "move", "start", "stop", "status",
                  "run", "install"}
_WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*")
_EDGES = "\"'`([{<)]}>.,;:!?"


def english_sentences(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """The runs of three or more English words in `text` that read as a sentence (one of
    them a common English word such as "the", "of", "no", or every one of them in lower
    case). Text in `allowed` (a person's topics, paths) is taken out first. Non-ASCII
    text ends a run, and so do the names a person types (the command after `review`,
    ratings, settings), option names, numbers, paths and single letters, which are no words.
    """
    for item in allowed:
        text = text.replace(item, " ")
    text = re.sub(r"[^\x00-\x7f]+", " | ", text)
    found, run, command = [], [], False
    for token in [*text.split(), ""]:
        word = token.strip(_EDGES)
        command = word == "review" or command and word in _COMMAND_WORDS
        if len(word) > 1 and _WORD.fullmatch(word) and word not in _NAMES and not command:
            run.append(word)
            continue
        if len(run) >= 3 and (any(w.lower() in _STOPWORDS and not w.isupper() for w in run)
                              or all(w.islower() for w in run)):
            found.append(" ".join(run))
        run = []
    return found


def test_the_sentence_check_finds_english_and_passes_commands_and_metavars() -> None:
    assert english_sentences("no card 99 (see 'review cards')") == []  # too short
    assert english_sentences("错误：no such option '--bogus'") == ["no such option"]
    assert english_sentences("日志输出到 stderr（适用于 systemd、launchd、容器）") == []
    assert english_sentences("month  self-tests  passed  retention") == [
        "month self-tests passed retention"]
    assert english_sentences("Nothing due on 12-02, and no cards scheduled") == [
        "Nothing due on", "and no cards scheduled"]
    assert english_sentences("see 'review config set timezone', the list of cards") == [
        "the list of cards"]
    assert english_sentences("用法: review [OPTIONS] [COMMAND] [ARGS]...") == []
    assert english_sentences("    review config set reminders.digest_at 08:30,20:00") == []
    assert english_sentences("示例：\n    review today --all --order due") == []
    assert english_sentences("主题：Attention is all you need") == ["Attention is all you need"]
    assert english_sentences("主题：Attention is all you need",
                             allowed=("Attention is all you need",)) == []


def study_log(today: date) -> str:
    """A log like the ones people keep (Chinese and English tables), dated before today."""
    def day(n: int) -> str:
        return (today - timedelta(days=n)).isoformat()

    return f"""# 学习日志

## 第一周

| 章节 | 状态 | 日期 | 自测 |
|------|------|------|------|
| 向量 Vectors | ✅ | {day(60)} | ✅ {day(57)} ✅ {day(50)} |
| 矩阵 Matrices | ✅ | {day(59)} | ❌ {day(56)} |
| 行列式 | ✅ | {day(58)} | {day(40)} |
| 特征值 | 进行中 | {day(57)} | |
| 概率 | 搞定 | {day(56)} | |

## Week 2

| Topic | Status | Date | Self-test |
|---|---|---|---|
| Attention is all you need | done | {day(13)} | |
| Probability | done | {day(8)} | {day(5)} hard |
"""


TOPICS = ("Attention is all you need", "Vectors", "Matrices", "Probability", "Week 2")


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if name not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "SRS_DATABASE_URL")}
    return {**env, "SRS_HOME": str(home), "TZ": "UTC", "COLUMNS": "100", **extra}


def review(env: dict[str, str], *args: str, stdin: str | None = None,
           cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([REVIEW, *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120, cwd=cwd)


# (arguments, exit status, standard input)
MAIN_COMMANDS: list[tuple[tuple[str, ...], int, str | None]] = [
    ((), 0, None),
    (("import", "--dry-run", "log.md"), 0, None),
    (("import", "log.md"), 0, None),
    ((), 0, None),
    (("today",), 0, None),
    (("cards",), 0, None),
    (("show", "1"), 0, None),
    (("grade", "1", "good"), 0, None),
    (("undo",), 0, None),
    (("set-due", "3", "+3d"), 0, None),
    (("undo",), 0, None),
    (("spread", "--days", "3", "--dry-run"), 0, None),
    (("session",), 0, "g\nh\nq\n"),
    (("stats",), 0, None),
    (("forecast",), 0, None),
    (("reminders",), 0, None),
    (("remind", "--dry-run"), 0, None),
    (("daemon", "status"), 3, None),
    (("logs",), 0, None),
    (("config", "show"), 0, None),
    (("check",), 0, None),
    (("optimize",), 0, None),
    (("add", "新主题", "--notes", "第 3 章"), 0, None),
    (("suspend", "6"), 0, None),
    (("--help",), 0, None),
    (("today", "--help"), 0, None),
    (("grade", "-h"), 0, None),
    (("import", "--help"), 0, None),
    (("config", "set", "--help"), 0, None),
    (("daemon", "--help"), 0, None),
    (("grade", "999", "good"), 1, None),
    (("grade", "1", "bogus"), 1, None),
    (("todya",), 2, None),
    (("today", "--bogus"), 2, None),
    (("today", "--limit", "x"), 2, None),
    (("show",), 2, None),
    (("today", "--date", "someday"), 2, None),
    (("set-due", "1", "soon"), 2, None),
    (("grade", "1", "good", "--at", "later"), 2, None),
    (("config", "set", "day_starts_at", "30"), 1, None),
    (("config", "set", "nonsense", "1"), 1, None),
    (("import", "missing.md"), 1, None),
]


def test_the_main_commands_speak_chinese_under_a_chinese_lang(tmp_path: Path) -> None:
    (tmp_path / "log.md").write_text(study_log(date.today()), encoding="utf-8")
    env = environment(tmp_path / "home", LANG="zh_CN.UTF-8")
    leftovers = []
    for args, status, stdin in MAIN_COMMANDS:
        done = review(env, *args, stdin=stdin, cwd=tmp_path)
        assert done.returncode == status, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, args
        output = done.stdout + done.stderr
        assert re.search(r"[\u4e00-\u9fff]", output), (args, output)
        allowed = (*TOPICS, str(tmp_path))
        leftovers += [(args, sentence) for sentence in english_sentences(output, allowed)]
    assert leftovers == [], "\n".join(map(repr, leftovers))


def test_the_same_commands_in_english_are_caught_by_the_check(tmp_path: Path) -> None:
    """The check above can fail: English output is full of sentences it finds."""
    (tmp_path / "log.md").write_text(study_log(date.today()), encoding="utf-8")
    env = environment(tmp_path / "home", LANG="C.UTF-8")
    review(env, "import", "log.md", cwd=tmp_path)
    for args in (("today",), ("--help",), ("grade", "999", "good"), ("config", "show")):
        done = review(env, *args, cwd=tmp_path)
        assert english_sentences(done.stdout + done.stderr, TOPICS), args
        assert not re.search(r"[\u4e00-\u9fff]", done.stderr), args


def test_help_and_click_messages_are_chinese(tmp_path: Path) -> None:
    env = environment(tmp_path / "home", LANG="zh_CN.UTF-8")
    help_text = review(env, "today", "--help").stdout
    assert help_text.startswith("用法: review today [OPTIONS]\n")
    assert "显示今天到期要自测的主题，最容易忘的排在前面。" in help_text
    assert "选项:" in help_text and "显示本帮助并退出。" in help_text
    listed = review(env, "--help").stdout
    assert "命令:" in listed
    assert re.search(r"^  today +显示今天到期要自测的主题，最容易忘的排在前面。$", listed, re.M)
    missing = review(env, "show")
    assert missing.returncode == 2
    assert missing.stderr == "错误：缺少参数 'ID'.（见 'review show -h'）\n"
    wrong = review(env, "today", "--limit", "x")
    assert wrong.stderr == ("错误：'--limit' 的值无效：'x' 不是有效的数字。"
                            "（见 'review today -h'）\n")


def test_chinese_help_wraps_by_terminal_cells(tmp_path: Path) -> None:
    """A CJK character takes two cells: help in Chinese fits an 60-column terminal."""
    from srs.text import cell_width

    env = environment(tmp_path / "home", LANG="zh_CN.UTF-8", COLUMNS="60")
    for args in (("--help",), ("restore", "--help"), ("config", "set", "--help")):
        lines = review(env, *args).stdout.splitlines()
        assert max(cell_width(line) for line in lines) <= 60, args


# --- (3) the language setting --------------------------------------------------------------

def test_config_set_language_switches_and_en_switches_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    english = environment(home, LANG="en_US.UTF-8")
    assert review(english, "today").stdout.startswith("Nothing due on ")
    assert review(english, "config", "set", "language", "zh_CN").stdout == "language = zh_CN\n"
    assert review(english, "today").stdout.startswith("学习日 ")
    assert review(english, "grade", "1", "good").stderr == "错误：没有卡片 1（见 'review cards'）\n"
    assert review(english, "today", "-h").stdout.startswith("用法: review today")
    chinese_env = environment(home, LANG="zh_CN.UTF-8")
    assert review(chinese_env, "config", "set", "language", "en").stdout == "language = en\n"
    assert review(chinese_env, "today").stdout.startswith("Nothing due on ")
    assert review(chinese_env, "today", "-h").stdout.startswith("Usage: review today")
    assert review(chinese_env, "config", "unset", "language").returncode == 0
    assert review(chinese_env, "today").stdout.startswith("学习日 ")


@pytest.mark.parametrize(("typed", "stored"), [
    ("zh_CN", "zh_CN"), ("zh", "zh_CN"), ("zh_Hans", "zh_CN"), ("zh_CN.UTF-8", "zh_CN"),
    ("en", "en"), ("en_US", "en"), ("", ""),
])
def test_language_values_are_stored_as_one_name(run: Callable[..., Result], srs_home: Path,
                                                typed: str, stored: str) -> None:
    result = run("config", "set", "language", typed)
    assert result.exit_code == 0, result.output
    assert run("config", "get", "language").stdout == f"{stored}\n"


def test_an_unknown_language_is_one_line_naming_it(run: Callable[..., Result]) -> None:
    result = run("config", "set", "language", "fr")
    assert result.exit_code == 1
    assert result.stderr == ("Error: bad value 'fr' for language: expected zh_CN or en (or "
                             "empty: follow LANG)\n")


def test_a_hand_written_language_is_read_and_a_bad_one_reported(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    config = home / "config" / "config.toml"
    config.write_text('language = "zh_CN"\n', encoding="utf-8")
    assert review(environment(home), "today").stdout.startswith("学习日 ")
    config.write_text('language = "klingon"\n', encoding="utf-8")
    done = review(environment(home), "today")
    assert done.returncode == 1
    assert done.stderr == ("Error: bad value 'klingon' for language: expected zh_CN or en (or "
                           "empty: follow LANG)\n")
    config.write_text("language = [\n", encoding="utf-8")  # not TOML: English, and said so
    done = review(environment(home, LANG="en_US.UTF-8"), "today")
    assert done.returncode == 1 and done.stderr.startswith("Error: ")
    assert "is not valid TOML" in done.stderr


# --- (4) English counts ----------------------------------------------------------------------

LOG_ONE = """| 日期 | 主题 | 自测 |
|---|---|---|
| 2026-10-01 | 向量 | 2026-10-04 |
| 2026-10-02 | 矩阵 | |
"""


@freeze_time("2026-12-03 10:00:00")
def test_english_counts_are_singular_for_one(run: Callable[..., Result],
                                             tmp_path: Path) -> None:
    log = tmp_path / "log.md"
    log.write_text(LOG_ONE, encoding="utf-8")
    assert run("import", str(log)).stdout == (
        "2 new, 0 updated, 0 unchanged cards; 3 reviews added; 0 pending; 0 warnings\n")
    log.write_text(LOG_ONE.replace("2026-10-04 |", "2026-10-04 2026-10-20 |")
                   + "| 2026-10-03 | 概率 | ✅ 2026-11-01 maybe |\n", encoding="utf-8")
    assert run("import", str(log)).stdout == (
        "1 new, 1 updated, 1 unchanged cards; 3 reviews added; 0 pending; 1 warning\n")
    log.write_text(LOG_ONE.replace("2026-10-04 |", "2026-10-04 2026-10-20 2026-11-02 |")
                   + "| 2026-10-03 | 概率 | ✅ 2026-11-01 maybe |\n", encoding="utf-8")
    assert run("import", str(log)).stdout == (
        "0 new, 1 updated, 2 unchanged cards; 1 review added; 0 pending; 1 warning\n")
    assert run("import", str(tmp_path / "nothing.md")).exit_code == 1


def test_plural_forms_in_english_and_one_form_in_chinese() -> None:
    assert i18n.ngettext("{n} review added", "{n} reviews added", 1).format(n=1) == (
        "1 review added")
    assert i18n.ngettext("{n} review added", "{n} reviews added", 2).format(n=2) == (
        "2 reviews added")
    assert i18n.ngettext("{n} day overdue", "{n} days overdue", 1).format(n=1) == "1 day overdue"
    i18n.use(i18n.CHINESE)
    for n in (1, 2, 5):
        assert i18n.ngettext("{n} day overdue", "{n} days overdue", n).format(n=n) == (
            f"逾期 {n} 天")


# --- (5) the wheel -------------------------------------------------------------------------

def test_a_built_wheel_carries_the_compiled_catalogue(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d",
                            str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel, = tmp_path.glob("srs-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert "srs/locale/zh_CN/LC_MESSAGES/srs.mo" in names
        compiled = gettext.GNUTranslations(
            io.BytesIO(archive.read("srs/locale/zh_CN/LC_MESSAGES/srs.mo")))
    assert compiled.gettext("Usage:") == "用法:"
    assert compiled.ngettext("{n} review added", "{n} reviews added", 3) == "新增 {n} 条复习记录"
