"""The root command and its errors: every user error of every subcommand ends as one
line on stderr with exit status 2 (not click's boxed usage message, nor a
traceback)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from typer.core import TyperGroup

from behavstats.errors import UserError

_click = importlib.import_module(typer.BadParameter.__module__)
"""click's exceptions, wherever this typer takes click from (its own copy since 0.2x)."""


def fail(message: str) -> None:
    """Print `error: message` as one line on stderr and exit with status 2."""
    typer.secho(f"error: {' '.join(message.split())}", fg="red", err=True)
    raise typer.Exit(2)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """A bad option (click's usage error) or a UserError of the package -> `fail`."""
    try:
        yield
    except getattr(_click, "NoArgsIsHelpError", ()):  # shows the help; not in old click
        raise
    except _click.UsageError as exc:
        hint = f" (see {exc.ctx.command_path} --help)" if exc.ctx else ""
        fail(exc.format_message() + hint)
    except UserError as exc:
        fail(str(exc))


class Commands(TyperGroup):
    """The root command, where every user error of every subcommand ends as one line
    (not click's boxed usage message, nor a traceback)."""

    def make_context(self, *args, **kwargs) -> typer.Context:
        with one_line_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: typer.Context):
        with one_line_errors():
            return super().invoke(ctx)


app = typer.Typer(help="Statistical behavioural analysis of maze-solving policy networks.",
                  cls=Commands, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode="markdown")
maze_app = typer.Typer(help="Look at single mazes.", no_args_is_help=True)
app.add_typer(maze_app, name="maze")
