"""Build hook: compile the message catalogues (srs/locale/LANG/LC_MESSAGES/srs.po → srs.mo)
with Babel whenever a wheel or an editable install is built, so both carry them.

The .mo files are written beside their .po in the source tree (git ignores them) and
listed as artifacts, which puts them in the wheel though git does not track them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def compile_catalogues(root: Path) -> list[Path]:
    """Compile every srs/locale/*/LC_MESSAGES/*.po under `root`; returns the .mo files.

    A .mo whose bytes would not change is left alone. Fuzzy entries are left out: they are
    guesses nobody has checked.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted((root / "srs" / "locale").glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != buffer.getvalue():
            mo.write_bytes(buffer.getvalue())
        written.append(mo)
    return written


class CatalogueHook(BuildHookInterface):
    """Compiles the catalogues before the wheel (or the editable wheel) is assembled."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        for mo in compile_catalogues(root):
            build_data["artifacts"].append(mo.relative_to(root).as_posix())
