"""``adhere eval SUITE``: score a responses file with a suite into a resumable run directory.

Everything heavy (the suite, its checks, rich) is imported inside the command, so the
CLI starts fast. User errors (unknown suite, missing or malformed files, an output
directory in use) print one clear line and exit with status 2, never a traceback.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from ..run import EvalOutcome

EXIT_USAGE = 2
MAX_PROBLEMS_SHOWN = 20


def default_out(suite: str) -> Path:
    """``$ADHERE_RUNS_DIR`` (default ``./adhere-runs``) / ``SUITE-YYYYmmdd-HHMMSS``, made unique."""
    root = Path(os.environ.get("ADHERE_RUNS_DIR") or "adhere-runs")
    stem = f"{suite.replace('/', '_')}-{time.strftime('%Y%m%d-%H%M%S')}"
    out, n = root / stem, 1
    while out.exists():
        n += 1
        out = root / f"{stem}-{n}"
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.5f}".rstrip("0").rstrip(".") if value == value else "nan"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_summary(console: Console, outcome: EvalOutcome) -> None:
    """The summary as tables: headline numbers, then one table per breakdown (dict of dicts)."""
    from rich.table import Table

    headline = Table(title=f"{outcome.suite}: summary", title_justify="left")
    headline.add_column("metric")
    headline.add_column("value", justify="right")
    breakdowns: list[tuple[str, Mapping[str, Any]]] = []
    for name, value in outcome.summary.items():
        if isinstance(value, Mapping) and value and all(isinstance(v, Mapping) for v in value.values()):
            breakdowns.append((name, value))
        elif isinstance(value, Mapping):
            for sub, v in value.items():
                headline.add_row(f"{name}.{sub}", _fmt(v))
        elif not isinstance(value, list):
            headline.add_row(name, _fmt(value))
    console.print(headline)
    for name, table_rows in breakdowns:
        columns: list[str] = []
        for cells in table_rows.values():
            columns.extend(c for c in cells if c not in columns)
        table = Table(title=name.replace("_", " "), title_justify="left")
        table.add_column("id")
        for c in columns:
            table.add_column(c, justify="right")
        for row_id, cells in table_rows.items():
            table.add_row(str(row_id), *(_fmt(cells.get(c, "")) for c in columns))
        console.print(table)


def render_outcome(console: Console, outcome: EvalOutcome) -> None:
    render_summary(console, outcome)
    if outcome.problems:
        console.print(f"[yellow]{len(outcome.problems)} problem(s):[/]")
        for p in outcome.problems[:MAX_PROBLEMS_SHOWN]:
            console.print(f"  - {p}", markup=False, highlight=False)
        if len(outcome.problems) > MAX_PROBLEMS_SHOWN:
            console.print(f"  ... and {len(outcome.problems) - MAX_PROBLEMS_SHOWN} more (listed in manifest.json)")
    done = f"{outcome.scored:,} scored" + (f", {outcome.skipped:,} already done" if outcome.skipped else "")
    console.print(
        f"{outcome.rows:,} rows ({done}) in {outcome.seconds:.2f} s -> {outcome.out}/"
        "{results.jsonl, summary.json, manifest.json}",
        markup=False,
        highlight=False,
    )


def eval_suite(
    suite: Annotated[str, typer.Argument(help="Suite to run: demo, ifeval, ... (demo needs nothing else).")],
    data: Annotated[
        str | None,
        typer.Option("--data", "-d", help="The suite's dataset: a local JSONL file. Default: the suite's own."),
    ] = None,
    responses: Annotated[
        Path | None,
        typer.Option("--responses", "-r", help="JSONL file of responses to score (one object per line)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Run directory. Default: $ADHERE_RUNS_DIR (./adhere-runs) / SUITE-TIMESTAMP."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --out: score only what is missing.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Start over if --out already holds a run.")] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Score only the first N samples (resume later without it).")
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size", min=1, envvar="ADHERE_BATCH_SIZE", help="Rows per durable write (default: every 0.5 s)."
        ),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", envvar="ADHERE_PROGRESS", help="Progress bar on stderr.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON instead of tables.")] = False,
    dedupe: Annotated[
        bool,
        typer.Option(
            "--dedupe/--no-dedupe",
            envvar="ADHERE_DEDUPE",
            help="Code suites: run byte-identical programs of the same task once and share the verdict.",
        ),
    ] = True,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Generate the responses: openai:NAME, replay:FILE or transformers:PATH.",
            rich_help_panel="Model",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="OpenAI-compatible server (default $ADHERE_BASE_URL, $OPENAI_BASE_URL).",
            rich_help_panel="Model",
        ),
    ] = None,
    n: Annotated[int, typer.Option("-n", min=1, help="Samples per prompt.", rich_help_panel="Model")] = 1,
    seed: Annotated[
        int, typer.Option("--seed", help="Base seed: sample i is requested with seed+i.", rich_help_panel="Model")
    ] = 0,
    temperature: Annotated[
        float | None, typer.Option("--temperature", min=0.0, help="Default: the server's.", rich_help_panel="Model")
    ] = None,
    top_p: Annotated[
        float | None, typer.Option("--top-p", min=0.0, max=1.0, help="Default: the server's.", rich_help_panel="Model")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", min=1, help="Default: the server's.", rich_help_panel="Model")
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Requests in flight.", rich_help_panel="Model")
    ] = 16,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.001, help="Seconds per attempt.", rich_help_panel="Model")
    ] = 120.0,
    strip_think: Annotated[
        bool,
        typer.Option(
            "--strip-think",
            help="Score responses without <think> blocks (recorded either way).",
            rich_help_panel="Model",
        ),
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not use the on-disk response cache.", rich_help_panel="Model")
    ] = False,
) -> None:
    """Score responses with a suite; write results.jsonl, summary.json and manifest.json to a run directory."""
    from ..errors import AdhereError
    from ..run import DelayedProgress, EvalRequest, run_eval

    if resume and force:
        _fail("--resume and --force contradict each other: --resume continues a run, --force starts it over")
    # The code suites read it when they are made (adhere.sandbox.dedupe_default).
    os.environ["ADHERE_DEDUPE"] = "1" if dedupe else "0"
    if resume and out is None:
        _fail("--resume needs --out: the run directory to continue")
    request = EvalRequest(
        suite=suite,
        out=out if out is not None else default_out(suite),
        data=data,
        responses=responses,
        resume=resume,
        force=force,
        limit=limit,
        batch_size=batch_size,
        argv=sys.argv[1:],
    )
    if model is not None and responses is not None:
        _fail("--model and --responses contradict each other: generate responses or score a file, not both")
    bar = DelayedProgress(f"{suite}", enabled=None if progress else False)
    try:
        if model is not None:
            from ..models import default_cache_path
            from ..run.generate import GenerateOptions, run_generate

            options = GenerateOptions(
                model=model,
                base_url=base_url,
                n=n,
                seed=seed,
                temperature=temperature,
                top_p=top_p,
                max_tokens=max_tokens,
                concurrency=concurrency,
                timeout=timeout,
                strip_think=strip_think,
                cache=None if no_cache else default_cache_path(),
            )
            try:
                options.params()
            except ValueError as exc:  # sampling parameters the models refuse (top_p 0)
                _fail(str(exc))
            outcome = run_generate(request, options, progress=bar)
        else:
            outcome = run_eval(request, progress=bar)
    except AdhereError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(_os_message(exc))
    except KeyboardInterrupt:
        typer.echo(
            f"interrupted; every row written so far is kept. Continue with: adhere eval {suite} "
            f"--out {request.out} --resume (plus the same --data/--responses or --model options)",
            err=True,
        )
        raise typer.Exit(130) from None
    if as_json:
        import orjson

        sys.stdout.write(orjson.dumps(outcome.summary, option=orjson.OPT_INDENT_2).decode() + "\n")
        for p in outcome.problems:
            typer.echo(f"problem: {p}", err=True)
        return
    from rich.console import Console

    render_outcome(Console(), outcome)


def _os_message(exc: OSError) -> str:
    if exc.filename is not None:
        return f"{exc.strerror or exc}: {exc.filename}"
    return str(exc)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_suite)
