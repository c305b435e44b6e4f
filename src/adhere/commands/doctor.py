"""``adhere doctor``: which sandbox protections are in force here, checked by trying.

Exit status: 0 when every protection of the design is active and every probe was
blocked; 1 when the sandbox runs degraded (it still works: see the list); 2 when it
cannot run at all.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def doctor(as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False) -> None:
    """Report the sandbox's protections on this machine and try each attack once."""
    import orjson

    from ..errors import SandboxError
    from ..sandbox import LocalExecutor
    from ..sandbox._doctor import platform_summary, self_check

    try:
        with LocalExecutor(workers=1) as executor:
            protections = executor.protections()
            probes = self_check(executor)
    except (SandboxError, OSError) as exc:
        typer.echo(f"error: the sandbox cannot run here: {exc}", err=True)
        raise typer.Exit(2) from None
    healthy = protections.full and all(p.blocked for p in probes)
    if as_json:
        report = {
            "platform": platform_summary(),
            "protections": protections.to_dict(),
            "missing": protections.missing(),
            "probes": [{"attack": p.name, "blocked": p.blocked, "detail": p.detail} for p in probes],
            "healthy": healthy,
        }
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
        raise typer.Exit(0 if healthy else 1)
    from rich.console import Console
    from rich.table import Table

    console = Console()
    on, off = "[green]active[/]", "[red]missing[/]"
    table = Table(title="sandbox protections", title_justify="left")
    table.add_column("protection")
    table.add_column("state")
    for name, active in protections.namespaces.items():
        table.add_row(f"{name} namespace", on if active else off)
    table.add_row("private read-only root", on if protections.filesystem == "private-root" else off)
    table.add_row(
        f"seccomp filter (libseccomp {protections.seccomp_library or 'missing'})", on if protections.seccomp else off
    )
    table.add_row(
        "capabilities dropped, no_new_privs",
        on if protections.capabilities_dropped and protections.no_new_privs else off,
    )
    table.add_row("pid cap in the namespace", f"[green]{protections.pid_cap}[/]" if protections.pid_cap else off)
    table.add_row("rlimits (memory, CPU, files, processes)", on)
    table.add_row("wall-clock kill of the process group", on)
    table.add_row(f"zygote: Python {protections.python}, {protections.zygote_rss_kb / 1024:.1f} MB", "")
    console.print(table)
    attacks = Table(title="attacks tried", title_justify="left")
    for col in ("attack", "result", "what the program saw"):
        attacks.add_column(col)
    for p in probes:
        attacks.add_row(p.name, "[green]blocked[/]" if p.blocked else "[red]ALLOWED[/]", p.detail)
    console.print(attacks)
    for error in protections.errors:
        console.print(f"[yellow]note[/]: {error}")
    if not healthy:
        console.print("[yellow]degraded[/]: missing " + ", ".join(protections.missing() or ["a blocked probe"]))
    raise typer.Exit(0 if healthy else 1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
