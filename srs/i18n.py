"""The one translation function every message a person reads passes through."""

import gettext as _gettext
from pathlib import Path

_LOCALE_DIR = Path(__file__).parent / "locale"
_translation = _gettext.translation("srs", localedir=_LOCALE_DIR, fallback=True)


def _(message: str) -> str:
    """Translate a message into the user's language (English when no catalogue fits)."""
    return _translation.gettext(message)
