"""``adhere list`` (the check catalog) and ``adhere check`` (one verdict tree)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import AdhereError
from ..verdict import Verdict


def render_tree(verdict: Verdict) -> object:
    """A rich Tree of a verdict: outcome, check, reason."""
    from rich.tree import Tree

    colour = {"pass": "green", "fail": "red", "unscorable": "yellow"}

    def label(v: Verdict) -> str:
        name = v.evidence.get("label") if isinstance(v.evidence.get("label"), str) else None
        title = f"{v.check} ({name})" if name else v.check
        return f"[{colour[v.outcome]}]{v.outcome.upper():<10}[/] [bold]{title}[/] — {v.reason}"

    def add(node: Tree, v: Verdict) -> None:
        for child in v.children:
            add(node.add(label(child)), child)

    tree = Tree(label(verdict))
    add(tree, verdict)
    return tree


def list_checks(
    query: Annotated[str, typer.Argument(help="Text to find in ids and descriptions.")] = "",
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Only checks with this tag.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON with parameter schemas.")] = False,
) -> None:
    """List the check catalog, filterable by text and tags."""
    from rich.console import Console
    from rich.table import Table

    from ..registry import REGISTRY

    found = REGISTRY.search(query, tag or ())
    if as_json:
        import orjson

        rows = [
            {
                "id": c.id,
                "version": c.version,
                "subject": c.subject,
                "description": c.description,
                "tags": sorted(c.tags),
                "params": c.schema(),
            }
            for c in found
        ]
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table(title=f"{len(found)} checks")
    for col in ("id", "version", "parameters", "tags", "description"):
        table.add_column(col)
    for c in found:
        table.add_row(c.id, c.version, ", ".join(c.params.model_fields), ", ".join(sorted(c.tags)), c.description)
    Console().print(table)


def check_one(
    spec: Annotated[Path, typer.Argument(help="Spec file (.json or .yaml).")],
    response: Annotated[str, typer.Argument(help="Response file, or - for standard input.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict tree as JSON.")] = False,
) -> None:
    """Judge one response with one spec and print the verdict tree."""
    from rich.console import Console

    from ..spec import Spec

    try:
        parsed = Spec.parse(spec)
        data = sys.stdin.buffer.read() if response == "-" else Path(response).read_bytes()
    except (AdhereError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    verdict = parsed.evaluate(data.decode("utf-8", errors="replace"))
    if as_json:
        import orjson

        sys.stdout.write(orjson.dumps(verdict.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        Console().print(render_tree(verdict))
    raise typer.Exit(0 if verdict.passed else 1)


def register(app: typer.Typer) -> None:
    app.command("list")(list_checks)
    app.command("check")(check_one)
