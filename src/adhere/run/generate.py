"""``adhere eval SUITE --model BACKEND:NAME -n K``: generate, verify and write as it goes.

The generating runner reuses every step of :func:`~adhere.run.runner.run_eval` (samples,
run lock, manifest, the crash-safe :class:`~adhere.run.store.JsonlStore`, identities)
and replaces "read a responses file" with "ask a model". A run directory then also holds
``generations.jsonl``: one :meth:`~adhere.models.Completion.to_dict` row per completion
(the raw output, reasoning, usage, errors), appended before the result rows it feeds.

Resuming is by identity (sample key, sample index): only the pairs missing from
``results.jsonl`` are handled again, plus those whose generation failed transiently
(``error_kind`` "exhausted": the server was down or overloaded), whose rows are removed
and asked for again. Those already in ``generations.jsonl`` (generated,
then killed before their rows were written) are scored from it without asking the
model; the others are asked again, and the response cache makes a generation paid for
once be free the second time. Result rows carry nothing that varies between processes
(no latency, no cache flag), so a killed-and-resumed run writes the same rows as an
uninterrupted one.

A completion the backend could not produce (``Completion.ok`` is False) is never
scored as an empty response: its row keeps the suite's layout with every judgement
set to unknown (``strict``/``loose``/``passed`` None, ``outcome`` "unscorable"), the
verdict :meth:`~adhere.models.Completion.error_verdict`, and ``error``/``error_kind``.
A suite may build such rows itself with an optional ``error_row(sample, sample_index,
reason) -> dict`` method. When the first :data:`ABORT_AFTER` requests all fail (a wrong
URL, model name or key), the run stops with :class:`~adhere.errors.BackendError` instead
of writing a run of error rows.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import BackendError, DatasetError
from ..suites.base import Pair, ResponseRow, Sample, Suite, get_suite
from .manifest import build_manifest, utc_now
from .progress import ProgressSink
from .runner import (
    MAX_STORED_PROBLEMS,
    EvalOutcome,
    EvalRequest,
    _check_rows,
    _key_bytes,
    check_out_dir,
    clear_run,
    load_samples,
    open_manifest,
    row_identity,
    run_lock,
    uses_checks,
)
from .store import JsonlStore, fsync_dir, write_json_atomic

if TYPE_CHECKING:
    from ..models import BaseGenerator, Completion, GenParams

__all__ = ["GENERATIONS_FILE", "GenerateOptions", "failed_row", "run_generate"]

GENERATIONS_FILE = "generations.jsonl"
FLUSH_SECONDS = 0.25  # a kill loses at most about this much generated-but-unwritten work
FLUSH_ROWS = 512
ABORT_AFTER = 32  # failures before any success: the backend is down or misconfigured, stop

Identity = tuple[bytes, int]


@dataclass(frozen=True)
class GenerateOptions:
    """Which model makes the responses and how (the CLI's ``--model`` and sampling options)."""

    model: str
    base_url: str | None = None
    n: int = 1
    seed: int | None = 0
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    concurrency: int = 16
    timeout: float = 120.0
    max_attempts: int = 6
    rate: float | None = None
    strip_think: bool = False
    cache: Path | None = None  # None: no response cache

    def params(self) -> GenParams:
        from ..models import GenParams

        return GenParams(temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens, seed=self.seed)

    def open(self) -> BaseGenerator:
        from ..models import open_generator

        return open_generator(
            self.model,
            base_url=self.base_url,
            concurrency=self.concurrency,
            timeout=self.timeout,
            max_attempts=self.max_attempts,
            rate=self.rate,
            cache=self.cache,
            strip_think=self.strip_think,
        )


# -- rows for samples the model could not produce ------------------------------------------------

_JUDGEMENTS = ("strict", "loose", "passed", "base_passed", "plus_passed", "score")


def _unknown(item: Mapping[str, Any], reason: str) -> dict[str, Any]:
    out = dict(item)
    for name in _JUDGEMENTS:
        if name in out:
            out[name] = None
    if "outcome" in out:
        out["outcome"] = "unscorable"
    if "status" in out:  # a code test that was never run did not fail
        out["status"] = "error"
    if "reason" in out:
        out["reason"] = reason
    return out


def failed_row(suite: Suite, sample: Sample, completion: Completion) -> dict[str, Any]:
    """The result row of a sample the backend failed to generate: unscorable, never 0.

    The suite's own ``error_row`` hook builds it when defined; otherwise the row layout
    comes from scoring a blank response, with every judgement in it (top level, and in
    lists of per-instruction / per-constraint / per-test objects) set to unknown, so the
    suite's ``summarize`` counts the row as unscorable.
    """
    reason = f"no response: the model backend failed ({completion.error_kind}): {completion.error}"
    hook: Callable[[Sample, int, str], dict[str, Any]] | None = getattr(suite, "error_row", None)
    if hook is not None:
        row = dict(hook(sample, completion.sample, reason))
    else:
        blank = Pair(sample, ResponseRow(text="", key=sample.key, sample_index=completion.sample))
        row = _unknown(next(iter(suite.score([blank]))), reason)
        for name, value in list(row.items()):
            if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
                row[name] = [_unknown(v, reason) for v in value]
    row["response"] = None
    row["verdict"] = completion.error_verdict().to_dict()
    row["error"] = completion.error
    row["error_kind"] = completion.error_kind
    row["sample"] = completion.sample
    return row


# -- the run -----------------------------------------------------------------------------------------


def _identity(key: Any, sample: int) -> Identity:
    return _key_bytes(key), sample


def _stored_generations(store: JsonlStore, problems: list[str]) -> dict[Identity, dict[str, Any]]:
    """Successful generations already on disk (after cutting a torn tail), by identity."""
    recovered = store.recover()
    problems.extend(recovered.repairs)
    out: dict[Identity, dict[str, Any]] = {}
    for row in recovered.rows:
        sample = row.get("sample")
        if row.get("error") is None and isinstance(row.get("response"), str) and isinstance(sample, int):
            out.setdefault(_identity(row.get("key"), sample), row)
    return out


def _drop_exhausted(path: Path, rows: Sequence[Mapping[str, Any]]) -> int:
    """Remove the rows of samples whose generation exhausted its retries (a server that was
    down or overloaded) from ``path``, atomically, so a resumed run asks for them again;
    returns how many. Every other line is kept byte for byte."""
    count = sum(1 for r in rows if r.get("error_kind") == "exhausted")
    if count:
        kept = [
            line
            for line in path.read_bytes().splitlines(keepends=True)
            if line.strip() and orjson.loads(line).get("error_kind") != "exhausted"
        ]
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as f:
            f.write(b"".join(kept))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    return count


class _Writer:
    """Scores completions and appends generations and rows, one durable batch at a time."""

    def __init__(self, suite: Suite, by_key: Mapping[bytes, Sample], results: JsonlStore, gens: JsonlStore) -> None:
        self.suite = suite
        self.by_key = by_key
        self.results = results
        self.gens = gens
        self.written = 0

    def write(self, completions: Sequence[Completion], stored: Sequence[Completion] = ()) -> int:
        """Append ``completions`` to generations.jsonl (``stored`` ones are there already),
        then their result rows to results.jsonl; returns the rows written."""
        self.gens.append(c.to_dict() for c in completions)
        rows: list[dict[str, Any]] = []
        ok: list[Pair] = []
        for c in (*stored, *completions):
            sample = self.by_key[_key_bytes(c.id)]
            if c.ok:
                ok.append(Pair(sample, ResponseRow(text=c.text, key=sample.key, sample_index=c.sample)))
            else:
                rows.append(failed_row(self.suite, sample, c))
        scored = list(self.suite.score(ok))
        _check_rows(self.suite, ok, scored)
        rows.extend(scored)
        n = self.results.append(rows)
        self.written += n
        return n


def _from_stored(row: Mapping[str, Any], sample: Sample) -> Completion:
    from ..models import Completion

    return Completion(
        id=sample.key,
        sample=int(row["sample"]),
        prompt=sample.prompt,
        text=str(row["response"]),
        raw=str(row.get("raw") or row["response"]),
        model=str(row.get("model") or ""),
        cached=True,
    )


async def _generate_into(
    gen: BaseGenerator,
    params: GenParams,
    todo: Iterator[Any],
    writer: _Writer,
    progress: ProgressSink | None,
) -> None:
    """Stream completions and hand them to the writer in batches, off the event loop, so
    generation goes on while a batch is scored and fsynced (one batch in flight)."""
    batch: list[Completion] = []
    in_flight: asyncio.Future[int] | None = None
    last = time.perf_counter()

    async def flush() -> None:
        nonlocal in_flight, batch, last
        if in_flight is not None:
            n = await in_flight
            if progress is not None:
                progress.advance(n)
        in_flight = asyncio.ensure_future(asyncio.to_thread(writer.write, batch)) if batch else None
        batch, last = [], time.perf_counter()

    succeeded = False
    try:
        async for c in gen.stream(todo, params):
            batch.append(c)
            succeeded = succeeded or c.ok
            if not succeeded:  # hold failures back until the backend has answered once
                if len(batch) >= ABORT_AFTER:
                    raise BackendError(
                        f"the model backend failed all of the first {len(batch)} requests "
                        f"(last: {c.error_kind}: {c.error}); nothing was written for them. "
                        "Check --model, --base-url and the API key, then run again (with --resume if rows exist)"
                    )
                continue
            if len(batch) >= FLUSH_ROWS or time.perf_counter() - last >= FLUSH_SECONDS:
                await flush()
        await flush()
        await flush()
    finally:
        if in_flight is not None and not in_flight.done():
            await asyncio.shield(in_flight)


def run_generate(
    request: EvalRequest,
    options: GenerateOptions,
    progress: ProgressSink | None = None,
) -> EvalOutcome:
    """Generate ``options.n`` responses per sample of ``request.suite`` with ``options.model``,
    score them and write the run directory ``request.out`` (see the module docstring).

    Raises:
        AdhereError: unknown suite or backend, unusable data, an output directory that
            cannot be used, a changed model or data on ``--resume``.
        OSError: a file cannot be read or written.
    """
    t0 = time.perf_counter()
    if options.n < 1:
        raise DatasetError(f"-n must be at least 1, got {options.n}")
    if request.limit is not None and request.limit < 1:
        raise DatasetError(f"--limit must be at least 1, got {request.limit}")
    suite = get_suite(request.suite)
    params = options.params()
    check_out_dir(request.out, resume=request.resume, force=request.force)
    samples, problems = load_samples(suite, request.data)
    chosen = samples if request.limit is None else samples[: request.limit]
    gen = options.open()
    request.out.mkdir(parents=True, exist_ok=True)
    with run_lock(request.out):
        check_out_dir(request.out, resume=request.resume, force=request.force)
        if request.force and not request.resume:
            clear_run(request.out)
            (request.out / GENERATIONS_FILE).unlink(missing_ok=True)
        if not request.resume and (request.out / GENERATIONS_FILE).exists():
            (request.out / GENERATIONS_FILE).unlink()  # left by a run that never wrote its manifest
        generator = {
            "model": options.model,
            "params": params.to_dict(),
            "n": options.n,
            "strip_think": options.strip_think,
        }
        manifest = build_manifest(
            suite=suite.name,
            data=request.data,
            responses=None,
            samples=samples,
            started=utc_now(),
            limit=request.limit,
            argv=request.argv,
            generator=generator,
            uses_checks=uses_checks(suite),
        )
        manifest = open_manifest(request.out, manifest, resume=request.resume)
        results = JsonlStore(request.out / "results.jsonl")
        gens = JsonlStore(request.out / GENERATIONS_FILE)
        with results, gens:
            done: Counter[Identity | None] = Counter()
            stored: dict[Identity, dict[str, Any]] = {}
            if request.resume:
                recovered = results.recover()
                problems.extend(recovered.repairs)
                retried = _drop_exhausted(results.path, recovered.rows)
                if retried:
                    problems.append(f"asking again for {retried} sample(s) whose generation failed transiently")
                done.update(row_identity(r, suite) for r in recovered.rows if r.get("error_kind") != "exhausted")
                stored = _stored_generations(gens, problems)
            by_key = {_key_bytes(s.key): s for s in chosen}
            total = len(chosen) * options.n
            missing = [(s, i) for s in chosen for i in range(options.n) if done[_identity(s.key, i)] == 0]
            from_disk = [_from_stored(stored[ident], s) for s, i in missing if (ident := _identity(s.key, i)) in stored]
            writer = _Writer(suite, by_key, results, gens)
            if progress is not None:
                progress.start(total, total - len(missing))
            try:
                if from_disk:
                    n = writer.write((), from_disk)
                    if progress is not None:
                        progress.advance(n)
                from ..models import Request
                from ..models.base import run_sync

                todo = (Request(s.prompt, i, s.key) for s, i in missing if _identity(s.key, i) not in stored)
                run_sync(_generate_into(gen, params, todo, writer, progress))
            finally:
                if progress is not None:
                    progress.stop()
        rows = results.read_rows()
        summary = suite.summarize(rows)
        write_json_atomic(request.out / "summary.json", summary, durable=False)
        errors = sum(1 for r in rows if r.get("error") is not None)
        manifest["finished"] = utc_now()
        manifest["rows"] = len(rows)
        manifest["generation_errors"] = errors
        manifest["problems"] = problems[:MAX_STORED_PROBLEMS]
        manifest["problems_total"] = len(problems)
        write_json_atomic(request.out / "manifest.json", manifest, durable=False)
    if errors:
        problems.append(f"{errors} sample(s) could not be generated; their rows are unscorable (see 'error')")
    return EvalOutcome(
        out=request.out,
        suite=suite.name,
        summary=summary,
        rows=len(rows),
        scored=writer.written,
        skipped=total - len(missing),
        problems=problems,
        seconds=time.perf_counter() - t0,
    )
