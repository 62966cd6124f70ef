"""Where srs keeps its files: the platform's user folders, or all under SRS_HOME."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    """The folders for configuration, data and state (pid and log files)."""

    config_dir: Path
    data_dir: Path
    state_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def default_db(self) -> Path:
        return self.data_dir / "srs.db"


def user_paths(environ: dict[str, str] | None = None) -> Paths:
    """The folders to use: `SRS_HOME` when set, else the platform's (platformdirs)."""
    env = os.environ if environ is None else environ
    home = env.get("SRS_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(root / "config", root / "data", root / "state")
    import platformdirs

    return Paths(
        Path(platformdirs.user_config_dir("srs")),
        Path(platformdirs.user_data_dir("srs")),
        Path(platformdirs.user_state_dir("srs")),
    )


def make_private_dir(path: Path) -> None:
    """Create a folder (and its parents) readable by the owner only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
