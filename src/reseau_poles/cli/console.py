"""What every command of ``reseau-poles`` writes with: the two consoles (the answer on
standard output, notes and errors on standard error), the error that ends a command, and the
body a command reads from a file or standard input."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

out = Console()
err = Console(stderr=True)


def read_body(body_file: Path | None) -> bytes:
    if body_file is not None:
        return body_file.read_bytes()
    if sys.stdin.isatty():
        err.print("[yellow]Lecture du corps sur l'entrée standard (Ctrl-D pour finir)…[/]")
    return sys.stdin.buffer.read()


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]Erreur :[/] {message}")
    return typer.Exit(code)
