"""The language of a command's whole output: srs's messages, its help texts, and click's
own words ("Usage:", "Show this message and exit.", "Missing argument ..."), all from
srs's catalogue."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

import click

from srs import i18n

# click's modules that hold messages (each imports gettext's functions under these names).
CLICK_MODULES = ("click.core", "click.decorators", "click.exceptions", "click.formatting",
                 "click.parser", "click.termui", "click.types")
# What click shows of a command or an option, translated from the English it was written in.
_HELP_FIELDS = ("help", "short_help", "epilog")
_ENGLISH = "_srs_english"


def start() -> str:
    """Pick this run's language (config.toml's `language`, else LANGUAGE, LC_ALL,
    LC_MESSAGES, LANG) and have click speak it too; returns the language."""
    from srs.config import configured_language
    from srs.paths import user_paths

    language = i18n.choose(configured_language(user_paths().config_file))
    i18n.use(language)
    for name in CLICK_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a later click that moved its messages elsewhere
            continue
        if hasattr(module, "_"):
            module._ = i18n._  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = i18n.ngettext  # type: ignore[attr-defined]
    return language


def _things(command: click.Command) -> Iterator[Any]:
    yield command
    yield from command.params
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from _things(sub)


def translate(command: click.Command) -> click.Command:
    """`command` (and its options and subcommands) with its help in this run's language.

    The English each was written in is kept beside it, so a process that runs commands in
    two languages (tests) always translates from the English."""
    for thing in _things(command):
        english = thing.__dict__.get(_ENGLISH)
        if english is None:
            english = {field: getattr(thing, field, None) for field in _HELP_FIELDS}
            setattr(thing, _ENGLISH, english)
        for field, text in english.items():
            if text:
                setattr(thing, field, i18n._(text))
        if isinstance(thing, click.Command):
            thing.context_class = Context
            help_option = getattr(thing, "_help_option", None)
            if help_option is not None:  # made once, in the language of the first use
                help_option.help = i18n._("Show this message and exit.")
    return command


def help_texts(command: click.Command) -> list[str]:
    """Every help text of `command`, its options and subcommands, in English."""
    texts: list[str] = []
    for thing in _things(command):
        english = thing.__dict__.get(_ENGLISH) or {
            field: getattr(thing, field, None) for field in _HELP_FIELDS}
        texts.extend(text for text in english.values() if text)
    return texts


class HelpFormatter(click.HelpFormatter):
    """click's help layout, wrapping text by terminal cells (a CJK character takes two)
    and joining the lines of a CJK paragraph without a space; English keeps click's own."""

    def write_text(self, text: str) -> None:
        if i18n.current() == i18n.ENGLISH:
            super().write_text(text)
            return
        indent = " " * self.current_indent
        self.write(wrap_text(text, self.width, indent))
        self.write("\n")

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        if i18n.current() == i18n.ENGLISH:
            super().write_dl(rows, col_max, col_spacing)
            return
        from srs.text import cell_width

        rows = list(rows)
        first_col = min(max((cell_width(term) for term, _ in rows), default=0),
                        col_max) + col_spacing
        for term, definition in rows:
            self.write(f"{'':>{self.current_indent}}{term}")
            if not definition:
                self.write("\n")
                continue
            if cell_width(term) <= first_col - col_spacing:
                self.write(" " * (first_col - cell_width(term)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap_text(definition, max(self.width - first_col - 2, 10)).splitlines()
            self.write(f"{lines[0] if lines else ''}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class Context(click.Context):
    """A click context whose help is laid out by `HelpFormatter`."""

    formatter_class = HelpFormatter


_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_OPENING = "（「『“‘《【〈"
_CLOSING = "，。；：、）」』”’》】〉！？…"
# What a line may break between: one CJK character or a run of other text, with the
# punctuation that may not start a line (，。）) or end one (（「) held to it; and spaces.
_UNITS = re.compile(f"[{_OPENING}]*(?:[{_CJK}]|[^\\s{_CJK}]+)[{_CLOSING}]*|\\s+")
_IS_CJK = re.compile(f"[{_CJK}]")


def _joined(lines: list[str]) -> str:
    """The lines of one paragraph as one line: a space between words, none between two CJK
    characters."""
    text = ""
    for line in lines:
        line = line.strip()
        if text and line and not (_IS_CJK.match(text[-1]) and _IS_CJK.match(line[0])):
            text += " "
        text += line
    return text


def _wrap(text: str, width: int) -> list[str]:
    """One paragraph in lines of at most `width` cells, broken at spaces and between CJK
    characters, never before a closing mark."""
    from cli.output import wrap

    return wrap(text, width, units=_UNITS)


def wrap_text(text: str, width: int, indent: str = "") -> str:
    """click's `wrap_text(preserve_paragraphs=True)` measured in cells: each paragraph
    rewrapped to `width` (keeping its own indent), one after a `\\b` line kept as it is."""
    paragraphs: list[str] = []
    for block in text.expandtabs().split("\n\n"):
        lines = [line for line in block.splitlines() if line]
        if not lines:
            continue
        own = indent + " " * (len(lines[0]) - len(lines[0].lstrip()))
        if lines[0].strip() == "\b":
            paragraphs.append("\n".join(own + line.strip("\n") for line in lines[1:]))
            continue
        wrapped = _wrap(_joined(lines), max(width - len(own), 10))
        paragraphs.append("\n".join(own + line for line in wrapped))
    return "\n\n".join(paragraphs)
