"""The one translation function every message a person reads passes through, the choice of
language, and days as a person reads them.

The catalogue is `srs/locale/LANG/LC_MESSAGES/srs.mo`, compiled from `srs.po` when the
package is built; without it every message stays English.
"""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "srs"
ENGLISH = "en"
CHINESE = "zh_CN"
LANGUAGES = (ENGLISH, CHINESE)
# Where a language is asked for, in gettext's order: the first one set decides.
ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_translation: _gettext.NullTranslations = _gettext.NullTranslations()
_language = ENGLISH


def _(message: str) -> str:
    """Translate a message into the user's language (English when no catalogue fits)."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message that counts something: `singular` for one, `plural` otherwise
    (or the catalogue's forms)."""
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for the catalogue where it is defined; `_` translates it where it is
    shown."""
    return message


def normalize(code: str) -> str | None:
    """The language a locale name or setting means: "zh", "zh_CN", "zh-CN", "zh_CN.UTF-8",
    "zh_Hans" are Chinese; "en", "en_US", "C", "POSIX" are English; None for any other."""
    name = code.strip().split(".")[0].split("@")[0].replace("-", "_").lower()
    if name in ("zh", "zh_cn", "zh_sg", "zh_hans", "zh_hans_cn", "zh_hans_sg"):
        return CHINESE
    if name in ("en", "c", "posix") or name.startswith("en_"):
        return ENGLISH
    return None


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for, as gettext reads it: the first of LANGUAGE,
    LC_ALL, LC_MESSAGES and LANG that is set, whose first language srs has (LANGUAGE may
    list several, `fr:zh_CN`); English when none."""
    env = os.environ if environ is None else environ
    for name in ENVIRONMENT:
        value = env.get(name, "")
        if value:
            for item in value.split(":"):
                language = normalize(item)
                if language is not None:
                    return language
            return ENGLISH
    return ENGLISH


def choose(configured: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The language to speak: config.toml's `language` when set, else the environment's."""
    if configured:
        language = normalize(configured)
        if language is not None:
            return language
    return from_environment(environ)


def use(language: str) -> None:
    """Speak `language` (one of LANGUAGES) from now on in this process."""
    global _translation, _language
    if language == ENGLISH:
        _translation = _gettext.NullTranslations()
    else:
        _translation = _gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language],
                                            fallback=True)
    _language = language


def current() -> str:
    """The language messages are in now."""
    return _language


_WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def day_label(day: date, today: date) -> str:
    """A study day as a person reads it: "Wed 12-02" ("12月2日 周三"), with the year when it
    is not this year's: "Wed 2025-12-02" ("2025年12月2日 周三")."""
    weekday = _(_WEEKDAYS[day.weekday()])
    if day.year == today.year:
        return _("{weekday} {month:02d}-{day:02d}").format(
            weekday=weekday, month=day.month, day=day.day)
    return _("{weekday} {year}-{month:02d}-{day:02d}").format(
        weekday=weekday, year=day.year, month=day.month, day=day.day)


use(from_environment())
