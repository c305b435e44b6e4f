"""``adhere report RUN [--html OUT] [--markdown OUT] [--json OUT] [--compare RUN2]``.

Reads run directories made by ``adhere eval`` and prints the statistics as tables;
optionally writes a self-contained HTML file, a Markdown file and the statistics as
JSON. With ``--compare`` every difference is RUN − RUN2, paired over shared prompts.
User errors (missing run, unreadable file) print one line and exit with status 2.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

EXIT_USAGE = 2


def report(
    run: Annotated[Path, typer.Argument(help="Run directory (or its results.jsonl).")],
    html: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")] = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", "--md", help="Write a Markdown report here.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the statistics as JSON here.")] = None,
    compare: Annotated[
        Path | None, typer.Option("--compare", help="Another run of the same suite; differences are RUN − RUN2.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap and permutation draws.")] = 0,
    resamples: Annotated[int, typer.Option(min=100, help="Bootstrap resamples per interval.")] = 2000,
    permutations: Annotated[int, typer.Option(min=100, help="Permutations of the paired test.")] = 10_000,
    confidence: Annotated[float, typer.Option(min=0.5, max=0.999, help="Confidence level of the intervals.")] = 0.95,
    max_failures: Annotated[int, typer.Option(min=0, help="Failures listed in the HTML report.")] = 500,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not print the tables.")] = False,
) -> None:
    """Statistics of a run with confidence intervals; HTML/Markdown reports; paired comparison."""
    import orjson
    from rich.console import Console

    from ..errors import AdhereError
    from ..report import build_report, load_run, print_report, render_html, render_markdown

    console = Console(stderr=quiet)
    try:
        data = load_run(run)
        other = load_run(compare) if compare is not None else None
    except AdhereError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    result = build_report(
        data,
        other,
        seed=seed,
        n_resamples=resamples,
        n_permutations=permutations,
        confidence=confidence,
        max_failures=max_failures,
    )
    if not quiet:
        print_report(result, console)
    outputs: list[tuple[Path | None, Callable[[], bytes]]] = [
        (html, lambda: render_html(result).encode("utf-8")),
        (markdown, lambda: render_markdown(result).encode("utf-8")),
        (json_out, lambda: orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)),
    ]
    for path, render in outputs:
        if path is None:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(render())
        except OSError as exc:
            typer.echo(f"error: cannot write {path}: {exc.strerror or exc}", err=True)
            raise typer.Exit(EXIT_USAGE) from None
        if not quiet:
            console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
