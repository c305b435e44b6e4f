"""``adhere exec PROGRAM.py --tests TESTS.json``: run one program's tests in the sandbox.

Exit status: 0 every test passed, 1 a test did not, 2 bad input (a clear one-line
error), 3 unscorable (the sandbox itself failed).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

EXIT_FAILED, EXIT_USAGE, EXIT_UNSCORABLE = 1, 2, 3


def exec_program(
    program: Annotated[Path, typer.Argument(help="The program (Python source), or - for standard input.")],
    tests: Annotated[Path, typer.Option("--tests", "-t", help="Tests as JSON (see adhere.suites.code_spec).")],
    entry_point: Annotated[str | None, typer.Option(help="The function call tests use (overrides the file).")] = None,
    timeout: Annotated[float | None, typer.Option(help="Wall-clock budget of the whole run, in seconds.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run PROGRAM's tests in the sandbox and print one line per test."""
    import dataclasses

    import orjson

    from ..errors import AdhereError
    from ..sandbox import LocalExecutor
    from ..suites.code_spec import job_from_spec

    try:
        source = sys.stdin.read() if str(program) == "-" else program.read_text(encoding="utf-8", errors="replace")
        spec = orjson.loads(tests.read_bytes())
        if entry_point is not None:
            spec = {"tests": spec} if isinstance(spec, list) else dict(spec)
            spec["entry_point"] = entry_point
        job = job_from_spec(source, spec)
        if timeout is not None:
            job = dataclasses.replace(job, limits=dataclasses.replace(job.limits, wall_seconds=timeout))
    except (OSError, orjson.JSONDecodeError, AdhereError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    with LocalExecutor(workers=1) as executor:
        [result] = executor.run([job])
    if as_json:
        out = {
            "status": result.status,
            "passed": result.passed,
            "reason": result.reason,
            "duration": round(result.duration, 6),
            "tests": [t.to_dict() for t in result.tests],
            "verdict": result.verdict().to_dict(),
        }
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        from rich.console import Console
        from rich.table import Table

        colour = {"passed": "green", "unscorable": "yellow", "not_run": "dim"}
        table = Table(title=f"{program}: {result.status}", title_justify="left")
        for col in ("test", "status", "seconds", "reason"):
            table.add_column(col)
        for t in result.tests:
            c = colour.get(t.status, "red")
            seconds = f"{t.duration:.4f}" if t.duration is not None else ""
            table.add_row(t.label or str(t.index), f"[{c}]{t.status}[/]", seconds, t.reason)
        console = Console()
        console.print(table)
        if result.reason:
            console.print(result.reason)
    if result.status == "unscorable":
        raise typer.Exit(EXIT_UNSCORABLE)
    raise typer.Exit(0 if result.passed else EXIT_FAILED)


def register(app: typer.Typer) -> None:
    app.command("exec")(exec_program)
