"""The message catalogues: extract every message, merge them into each language's .po, compile.

    .venv/bin/python scripts/messages.py          # write srs.pot, update each srs.po, compile
    .venv/bin/python scripts/messages.py --check  # list what is missing; exit 1 if anything

Messages come from three places: the sources (`_`, `ngettext`, `N_`, through Babel and the
mapping in babel.cfg), every command's help texts (its docstring, its options' help), and
click's own messages ("Usage:", "Missing argument ...", from the installed click). A new
message lands in each .po untranslated; translate it there and run this again (or
reinstall: building the package compiles the .mo too).
"""

from __future__ import annotations

import argparse
import inspect
import string
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "srs" / "locale"
TEMPLATE = LOCALE / "srs.pot"
KEYWORDS = {"_": None, "ngettext": (1, 2), "N_": None}
HELP_COMMENT = "help text of a command or an option"
CLICK_COMMENT = "click's own message"
LINE_WIDTH = 100
HEADER = ("# {language} message of srs, the self-test scheduler for markdown study logs.\n"
          "# This file is distributed under the same license as srs (MIT); see README.md\n"
          "# (\"Messages and translations\") for how it is kept up to date.\n#")


def method_map() -> list[tuple[str, str]]:
    """The (pattern, method) pairs of babel.cfg."""
    import configparser

    parser = configparser.ConfigParser()
    parser.read(ROOT / "babel.cfg", encoding="utf-8")
    pairs = []
    for section in parser.sections():
        method, _, pattern = section.partition(":")
        pairs.append((pattern.strip(), method.strip()))
    return pairs


def source_messages() -> Iterator[tuple[str | tuple[str, str], str, int]]:
    """(message, file, line) for every message the sources mark."""
    for filename, line, message, _comments, _context in extract_from_dir(
            ROOT, method_map(), keywords=KEYWORDS):
        yield message, filename, line


def all_commands() -> Iterator[object]:
    """The root command and every command under it (their modules imported)."""
    import click

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from cli.main import COMMANDS, cli

    ctx = click.Context(cli)
    yield cli
    for name in sorted(COMMANDS):
        command = cli.get_command(ctx, name)
        if command is not None:
            yield command


def help_messages() -> Iterator[tuple[str, str, int]]:
    """(text, file, line) for every help text of every command and option, in English."""
    from cli.language import help_texts

    for command in all_commands():
        callback = inspect.unwrap(getattr(command, "callback", None) or (lambda: None))
        try:
            where = Path(inspect.getsourcefile(callback)).relative_to(ROOT).as_posix()  # type: ignore[arg-type]
            line = inspect.getsourcelines(callback)[1]  # type: ignore[arg-type]
        except (TypeError, ValueError, OSError):
            where, line = "cli", 0
        for text in help_texts(command):  # type: ignore[arg-type]
            yield text, where, line


def click_messages() -> Iterator[tuple[str | tuple[str, str], str, int]]:
    """(message, file, line) for every message of the installed click."""
    import click

    folder = Path(click.__file__).parent
    for filename, line, message, _comments, _context in extract_from_dir(
            folder, [("**.py", "python")], keywords={"_": None, "ngettext": (1, 2)}):
        if filename.startswith("_winconsole"):
            continue
        yield message, f"click/{filename}", line


def template() -> Catalog:
    """Every message srs shows, as a catalogue without translations."""
    from srs import __version__

    catalog = Catalog(project="srs", version=__version__, charset="utf-8", fuzzy=False,
                      copyright_holder="the srs authors", msgid_bugs_address="",
                      header_comment=HEADER.format(language="Every"))
    for message, where, line in source_messages():
        catalog.add(message, None, [(where, line)])
    for text, where, line in help_messages():
        catalog.add(text, None, [(where, line)], auto_comments=[HELP_COMMENT])
    for message, where, line in click_messages():
        if message not in catalog:
            catalog.add(message, None, [(where, line)], auto_comments=[CLICK_COMMENT])
    return catalog


def catalogues() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/srs.po"))


def read(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=path.parent.parent.name)


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        write_po(out, catalog, width=LINE_WIDTH, ignore_obsolete=True, include_previous=False)


def placeholders(text: str) -> list[str]:
    """The str.format fields of `text` (name and conversion, not the format spec: `{n:02d}`
    and `{n}` are the same field), sorted."""
    try:
        return sorted({f"{name}!{conversion}" if conversion else name
                      for _, name, _, conversion in string.Formatter().parse(text)
                      if name is not None})
    except ValueError:
        return ["<not a format string>"]


def problems(catalog: Catalog, wanted: Catalog) -> list[str]:
    """What `catalog` lacks for the messages of `wanted`: missing, untranslated or fuzzy
    entries, and translations whose placeholders are not the message's (a translation of
    one of click's messages may leave one out: click fills some with English words)."""
    found = []
    for message in wanted:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        entry = catalog.get(key)
        if entry is None:
            found.append(f"missing: {key!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        if entry.fuzzy or not all(strings):
            found.append(f"untranslated: {key!r}")
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        clicks = CLICK_COMMENT in message.auto_comments
        for text in strings:
            fields = set(placeholders(text))
            if not any(fields == set(placeholders(one))
                       or clicks and fields <= set(placeholders(one)) for one in ids):
                found.append(f"placeholders differ: {key!r} -> {text!r}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only list what is missing or untranslated")
    args = parser.parse_args()
    wanted = template()
    status = 0
    if not args.check:
        write(wanted, TEMPLATE)
    for path in catalogues():
        catalog = read(path)
        if not args.check:
            catalog.update(wanted, no_fuzzy_matching=True)
            write(catalog, path)
        found = problems(catalog, wanted)
        for problem in found:
            print(f"{path.relative_to(ROOT)}: {problem}")
        status = status or bool(found and args.check)
        print(f"{path.relative_to(ROOT)}: {len(wanted)} messages, {len(found)} to translate")
    if not args.check:
        sys.path.insert(0, str(ROOT))
        from hatch_build import compile_catalogues

        for mo in compile_catalogues(ROOT):
            print(f"compiled {mo.relative_to(ROOT)}")
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
