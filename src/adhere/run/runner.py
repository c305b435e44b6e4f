"""The suite runner: responses in, a resumable run directory out.

A run directory holds::

    manifest.json    what the run was made from (written first, atomically)
    results.jsonl    one row per (sample, response), the suite's layout + "sample";
                     appended batch by batch, each batch flushed and fsynced
    summary.json     the suite's headline numbers over *all* rows of results.jsonl

:func:`run_eval` is deliberately split into steps (load, read, pair, resume, score,
summarise) so a generating runner (model backends, ``-n K``) can reuse every step and
only replace "read responses" with "generate".

Resuming works on identities, not line counts: a row is identified by its sample key
and its ``sample`` index (the completion's index within its prompt), so rows written by
an earlier process are skipped exactly once each, whatever order they are in.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..errors import AdhereError, DatasetError
from ..suites.base import Pair, Sample, Suite, get_suite
from .manifest import build_manifest, resume_conflicts, utc_now
from .progress import ProgressSink
from .responses import read_responses
from .store import JsonlStore, write_json_atomic

__all__ = ["RUN_FILES", "EvalOutcome", "EvalRequest", "RunDirError", "pair_identity", "row_identity", "run_eval"]

RUN_FILES = ("manifest.json", "results.jsonl", "summary.json")
_KEY_FIELDS = ("key", "task_id", "id")
MAX_STORED_PROBLEMS = 1000  # in manifest.json; a binary file passed as responses has one per line


class RunDirError(AdhereError, ValueError):
    """The output directory cannot be used as asked (exists without --resume, or changed inputs)."""


@dataclass(frozen=True)
class EvalRequest:
    """What to evaluate and where to write it."""

    suite: str
    out: Path
    data: str | None = None
    responses: Path | None = None
    resume: bool = False
    force: bool = False
    limit: int | None = None
    batch_size: int | None = None  # rows per durable write; None: a write every half second
    argv: Sequence[str] = ()


@dataclass
class EvalOutcome:
    """What a run did: where, the summary, counts, and every problem met."""

    out: Path
    suite: str
    summary: dict[str, Any]
    rows: int
    scored: int
    skipped: int
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


# -- identities ------------------------------------------------------------------------------


def _key_bytes(key: Any) -> bytes:
    return orjson.dumps(key, default=str, option=orjson.OPT_NON_STR_KEYS)


def pair_identity(pair: Pair) -> tuple[bytes, int]:
    """(sample key as JSON, sample index): what a result row for ``pair`` will be known by."""
    index = pair.response.sample_index if pair.response is not None else 0
    return _key_bytes(pair.sample.key), index


def row_identity(row: Mapping[str, Any], suite: Suite | None = None) -> tuple[bytes, int] | None:
    """The identity of a stored result row, or None when the row carries no sample key.

    The key is read with the suite's ``row_key(row)`` when it defines one, else from the
    first of ``key``, ``task_id``, ``id`` present in the row.
    """
    custom: Callable[[Mapping[str, Any]], Any] | None = getattr(suite, "row_key", None)
    if custom is not None:
        key = custom(row)
    else:
        for name in _KEY_FIELDS:
            if name in row:
                key = row[name]
                break
        else:
            return None
    sample = row.get("sample", 0)
    return _key_bytes(key), sample if isinstance(sample, int) else 0


# -- steps ----------------------------------------------------------------------------------------


def check_out_dir(out: Path, *, resume: bool, force: bool) -> None:
    """Refuse to mix a new run into an old one unless asked (no side effects)."""
    if out.exists() and not out.is_dir():
        raise RunDirError(f"--out {out} exists and is not a directory")
    existing = [name for name in RUN_FILES if (out / name).exists()]
    if existing and not resume and not force:
        raise RunDirError(
            f"{out} already holds a run ({', '.join(existing)}); "
            "pass --resume to continue it, --force to start it over, or choose another --out"
        )


def clear_run(out: Path) -> None:
    """Remove an earlier run's files (``--force``); call with the run lock held."""
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)


@contextmanager
def run_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the run directory: two processes never write one run.

    The lock is a ``flock`` on ``out/.lock``; the kernel drops it when the holder exits,
    even on ``kill -9``, so a crashed run never blocks its own ``--resume``.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no locking
        yield
        return
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunDirError(f"another adhere process is writing the run in {out}; wait for it or stop it") from None
        yield
    finally:
        os.close(fd)


def default_responses(suite: Suite, data: str | None) -> Path | None:
    """The responses that come with the data, if the suite has such (the demo suite does).

    A suite opts in with a ``default_responses(data) -> Path | None`` method.
    """
    fn: Callable[[str | None], Path | None] | None = getattr(suite, "default_responses", None)
    return fn(data) if fn is not None else None


def uses_checks(suite: Suite) -> bool:
    """Whether the suite's verdicts come from registered checks (optional ``uses_checks``, default yes)."""
    return bool(getattr(suite, "uses_checks", True))


def load_samples(suite: Suite, data: str | None) -> tuple[list[Sample], list[str]]:
    """All the suite's samples and the dataset's problems.

    A suite reports dataset rows it skipped through an optional ``problems`` attribute
    (a list of errors or sentences, as :class:`~adhere.suites.text.TextSuite` keeps).

    Raises:
        DatasetError: no usable sample, or two samples with the same key.
    """
    samples = suite.load(data)
    problems = [str(p) for p in getattr(suite, "problems", None) or ()]
    source = data or suite.name
    if not samples:
        first = f" (first problem: {problems[0]})" if problems else ""
        raise DatasetError(f"no usable samples in the data of suite {suite.name!r}{first}", source)
    keys = Counter(_key_bytes(s.key) for s in samples)
    dupes = [k.decode() for k, n in keys.items() if n > 1]
    if dupes:
        raise DatasetError(
            f"sample keys must be unique; repeated: {', '.join(dupes[:5])}{' ...' if len(dupes) > 5 else ''}", source
        )
    return samples, problems


def pair_responses(
    suite: Suite, samples: Sequence[Sample], responses_path: Path, limit: int | None = None
) -> tuple[list[Pair], list[str]]:
    """Read the responses file and pair it with the first ``limit`` samples (all by default).

    Responses that belong to samples beyond the limit are set aside silently (they are
    not "unmatched"), so ``--limit`` never floods the problem list.

    Raises:
        DatasetError: no usable response in the file, or none matches any sample.
    """
    responses, problems = read_responses(suite, responses_path)
    if not responses:
        first = f" (first problem: {problems[0]})" if problems else ""
        raise DatasetError(f"no usable responses{first}", str(responses_path))
    chosen = list(samples if limit is None else samples[:limit])
    if len(chosen) < len(samples):
        all_pairs, _ = suite.pair(samples, responses)
        kept = {id(s) for s in chosen}
        beyond = {id(p.response) for p in all_pairs if p.response is not None and id(p.sample) not in kept}
        responses = [r for r in responses if id(r) not in beyond]
    pairs, pair_problems = suite.pair(chosen, responses)
    problems.extend(pair_problems)
    if pairs and all(p.response is None for p in pairs):
        raise DatasetError(
            f"none of the {len(responses)} responses matches a prompt of suite {suite.name!r} by key or prompt text; "
            "is this the right responses file (and --data)?",
            str(responses_path),
        )
    return pairs, problems


def open_manifest(out: Path, new: dict[str, Any], *, resume: bool) -> dict[str, Any]:
    """Write the manifest of this run; on resume, check the stored one is compatible first."""
    path = out / "manifest.json"
    if resume and path.exists():
        try:
            old = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise RunDirError(f"{path} is not valid JSON ({exc}); cannot resume safely") from None
        conflicts = resume_conflicts(old, new)
        if conflicts:
            raise RunDirError(
                f"cannot resume the run in {out}: " + "; ".join(conflicts) + ". Start a new run with another --out."
            )
        new["started"] = old.get("started", new["started"])
        new["resumed"] = [*old.get("resumed", []), utc_now()]
    write_json_atomic(path, new)
    return new


def _check_row(suite: Suite, pair: Pair, row: dict[str, Any]) -> None:
    if "verdict" not in row:
        raise AdhereError(f"suite {suite.name!r} wrote a row without a 'verdict' (key {pair.sample.key!r})")
    if "sample" not in row:
        row["sample"] = pair.response.sample_index if pair.response is not None else 0
    got, want = row_identity(row, suite), pair_identity(pair)
    if got != want:
        shown = "no key" if got is None else f"key {got[0].decode()}, sample {got[1]}"
        raise AdhereError(
            f"suite {suite.name!r} wrote a row with {shown} for key {want[0].decode()}, sample {want[1]}; "
            "rows must carry their sample's key and sample index, or runs could not be resumed"
        )


def _check_rows(suite: Suite, batch: Sequence[Pair], rows: list[dict[str, Any]]) -> None:
    if len(rows) != len(batch):
        raise AdhereError(f"suite {suite.name!r} returned {len(rows)} rows for {len(batch)} pairs")
    for pair, row in zip(batch, rows, strict=True):
        _check_row(suite, pair, row)


def score_into(
    suite: Suite,
    pairs: Sequence[Pair],
    store: JsonlStore,
    *,
    batch_size: int | None = None,
    progress: ProgressSink | None = None,
    target_seconds: float = 0.5,
) -> int:
    """Score ``pairs`` and append the rows durably as they come; returns rows written.

    The suite scores all the pairs as one stream and yields the rows in order (a code
    suite keeps its sandbox pool full for the whole run: batches that each waited for
    their slowest sample left the pool idle behind every program that ran into its time
    limit). Rows are written, one fsync each time, every ``batch_size`` rows when that is
    set, else whenever ``target_seconds`` have passed since the last write: a kill loses
    at most about that much work, while a fast text suite pays for one or two fsyncs in all.
    """
    written = 0
    pending: list[dict[str, Any]] = []
    last_write = time.perf_counter()
    rows = iter(suite.score(pairs))
    for index, pair in enumerate(pairs):
        row = next(rows, None)
        if row is None:
            raise AdhereError(f"suite {suite.name!r} returned {index} rows for {len(pairs)} pairs")
        _check_row(suite, pair, row)
        pending.append(row)
        if progress is not None:
            progress.advance()
        now = time.perf_counter()
        if len(pending) >= batch_size if batch_size is not None else now - last_write >= target_seconds:
            written += store.append(pending)
            pending, last_write = [], now
    if next(rows, None) is not None:
        raise AdhereError(f"suite {suite.name!r} returned more rows than the {len(pairs)} pairs")
    written += store.append(pending)
    return written


def run_eval(request: EvalRequest, progress: ProgressSink | None = None) -> EvalOutcome:
    """Evaluate ``request.suite`` on a responses file into ``request.out`` (see the module docstring).

    Raises:
        AdhereError: unknown suite (with "did you mean"), unusable data, an output
            directory that cannot be used, a missing optional dependency.
        OSError: a file cannot be read or written.
    """
    t0 = time.perf_counter()
    suite = get_suite(request.suite)
    responses_path = request.responses or default_responses(suite, request.data)
    if responses_path is None:
        raise DatasetError(f"suite {suite.name!r} needs responses to score: pass --responses FILE.jsonl")
    if not responses_path.is_file():
        raise DatasetError(f"responses file not found: {responses_path}")
    if request.limit is not None and request.limit < 1:
        raise DatasetError(f"--limit must be at least 1, got {request.limit}")
    check_out_dir(request.out, resume=request.resume, force=request.force)

    samples, problems = load_samples(suite, request.data)
    pairs, pair_problems = pair_responses(suite, samples, responses_path, request.limit)
    problems.extend(pair_problems)
    request.out.mkdir(parents=True, exist_ok=True)
    with run_lock(request.out):
        check_out_dir(request.out, resume=request.resume, force=request.force)  # again, now that we hold it
        if request.force and not request.resume:
            clear_run(request.out)
        return _run_locked(request, suite, samples, pairs, problems, responses_path, progress, t0)


def _run_locked(
    request: EvalRequest,
    suite: Suite,
    samples: list[Sample],
    pairs: list[Pair],
    problems: list[str],
    responses_path: Path,
    progress: ProgressSink | None,
    t0: float,
) -> EvalOutcome:
    manifest = build_manifest(
        suite=suite.name,
        data=request.data,
        responses=responses_path,
        samples=samples,
        started=utc_now(),
        limit=request.limit,
        argv=request.argv,
        uses_checks=uses_checks(suite),
    )
    manifest = open_manifest(request.out, manifest, resume=request.resume)

    store = JsonlStore(request.out / "results.jsonl")
    with store:
        done: Counter[tuple[bytes, int] | None] = Counter()
        if request.resume:
            recovered = store.recover()
            problems.extend(recovered.repairs)
            done.update(row_identity(r, suite) for r in recovered.rows)
        todo: list[Pair] = []
        for pair in pairs:
            ident = pair_identity(pair)
            if done[ident] > 0:
                done[ident] -= 1
            else:
                todo.append(pair)
        skipped = len(pairs) - len(todo)
        if progress is not None:
            progress.start(len(pairs), skipped)
        try:
            scored = score_into(suite, todo, store, batch_size=request.batch_size, progress=progress)
        finally:
            if progress is not None:
                progress.stop()

    rows = store.read_rows()
    summary = suite.summarize(rows)
    # Both are derived from results.jsonl and the first manifest: atomic is enough, no fsync.
    write_json_atomic(request.out / "summary.json", summary, durable=False)
    manifest["finished"] = utc_now()
    manifest["rows"] = len(rows)
    manifest["problems"] = problems[:MAX_STORED_PROBLEMS]
    manifest["problems_total"] = len(problems)
    write_json_atomic(request.out / "manifest.json", manifest, durable=False)
    return EvalOutcome(
        out=request.out,
        suite=suite.name,
        summary=summary,
        rows=len(rows),
        scored=scored,
        skipped=skipped,
        problems=problems,
        seconds=time.perf_counter() - t0,
    )
