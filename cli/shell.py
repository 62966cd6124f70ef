"""`review completion` and `review open`: the command line and the editor, as people expect."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import click

from cli.output import ID, echo
from srs.app import App
from srs.errors import SrsError
from srs.i18n import _

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion_cmd(shell: str) -> None:
    """Print the completion script for SHELL (commands, options and their values).

    \b
    Install it once:
        bash: review completion bash > ~/.local/share/bash-completion/completions/review
        zsh:  review completion zsh > "${fpath[1]}/_review"
        fish: review completion fish > ~/.config/fish/completions/review.fish
    """
    from click.shell_completion import get_completion_class

    from cli.main import cli

    found = get_completion_class(shell)
    assert found is not None, shell
    click.echo(found(cli, {}, "review", "_REVIEW_COMPLETE").source())


# Editors that open FILE:LINE with -g (or take it as is); the rest take +LINE FILE (vi, vim,
# nvim, nano, emacs, micro, kakoune, helix's hx takes FILE:LINE too).
_GOTO = {"code": ["-g"], "codium": ["-g"], "code-insiders": ["-g"], "subl": [], "zed": [],
         "hx": [], "helix": []}


def editor_command(editor: str, path: Path, line: int | None) -> list[str]:
    """The command that opens `path` at `line` in `editor` (as $VISUAL/$EDITOR give it)."""
    words = shlex.split(editor)
    name = Path(words[0]).name if words else ""
    if line is None:
        return [*words, str(path)]
    if name in _GOTO:
        return [*words, *_GOTO[name], f"{path}:{line}"]
    return [*words, f"+{line}", str(path)]


@click.command("open")
@click.argument("card_id", type=ID, metavar="ID")
@click.pass_obj
def open_cmd(app: App, card_id: int) -> None:
    """Open the log at the card's row in your editor ($VISUAL, else $EDITOR).

    \b
    Example:
        EDITOR=vim review open 12
    """
    from srs.store import card_row, source_paths

    with app.reading() as conn:
        card = card_row(conn, card_id)
        path = source_paths(conn).get(card.source_id) if card.source_id is not None else None
    if path is None:
        raise SrsError(_("card {id} is in no log (it was added with 'review add')").format(
            id=card_id))
    if not Path(path).exists():
        raise SrsError(_("{path}: no such file (the log moved? see 'review logs')").format(
            path=path))
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        echo(f"{path}:{card.source_line}")
        raise SrsError(_("no editor set: set VISUAL or EDITOR (export EDITOR=vim)"))
    command = editor_command(editor, Path(path), card.source_line)
    try:
        status = subprocess.run(command, check=False).returncode
    except OSError as err:
        raise SrsError(_("cannot run the editor {editor!r}: {reason}").format(
            editor=editor, reason=err.strerror or err)) from None
    if status:
        raise SrsError(_("the editor {editor!r} ended with status {status}").format(
            editor=editor, status=status))
