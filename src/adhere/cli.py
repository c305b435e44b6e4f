"""The ``adhere`` command line: one app, namespaced verbs.

Each verb lives in a small module under :mod:`adhere.commands` and registers itself
here; heavy imports happen inside the command functions, so ``adhere --help`` is fast.
"""

from __future__ import annotations

import typer

from .commands import catalog, serve
from .commands import doctor as doctor_command
from .commands import eval as eval_command
from .commands import exec as exec_command
from .commands import report as report_command

app = typer.Typer(
    name="adhere",
    help="Verify LLM outputs: instruction constraints, code tests and agent contracts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

catalog.register(app)
eval_command.register(app)
serve.register(app)
report_command.register(app)
exec_command.register(app)
doctor_command.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
