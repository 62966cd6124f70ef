"""Every command has help text and appears in the README."""

from pathlib import Path

import click
import pytest

from cli.main import COMMANDS, cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def all_commands() -> list[tuple[str, click.Command]]:
    ctx = click.Context(cli)
    found = []
    for name in sorted(COMMANDS):
        command = cli.get_command(ctx, name)
        assert command is not None, name
        found.append((name, command))
        if isinstance(command, click.Group):
            found.extend((f"{name} {sub}", command.commands[sub]) for sub in command.commands)
    return found


@pytest.mark.parametrize(("name", "command"), all_commands(), ids=lambda v: str(v))
def test_command_has_help_and_is_documented(name: str, command: click.Command) -> None:
    assert command.help and command.help.strip(), name
    assert f"review {name}" in README, f"'review {name}' is not in README.md"
