"""``TextSuite``: the generic half of every prompt/response text suite.

A text suite reads prompts (``load``), normalises response rows (``parse_response``),
pairs them (``pair``), judges each pair (``score_pair``) and summarises (``summarize``).
Subclasses usually override only :meth:`TextSuite.sample_from_row`,
:meth:`TextSuite.score_pair` and :meth:`TextSuite.summarize` (and
:meth:`TextSuite.default_rows` when the suite has built-in or hub data).

**Responses rows** (one JSON object per line) are accepted in these shapes:

* the text under ``response``, or else ``completion``, ``output`` or ``text``
  (the first of these that is present);
* optionally ``key`` or ``id`` (an opaque int or str naming the prompt; compared by
  its text form, so ``1000`` and ``"1000"`` are the same key);
* optionally ``prompt`` (the prompt text) and ``sample_index`` (0, 1, ... when a
  prompt has several sampled responses).

A row needs a key or a prompt. **Pairing**: a row with a key goes to the sample with
that key; a row without one (or whose key is unknown) goes to the sample whose prompt
equals its prompt exactly, else after stripping outer whitespace. A second response for
the same sample (and sample index) is dropped and reported; the first one is kept.
Samples without any response are paired with ``None`` (they fail) and reported.

**Problems** never stop a run: ``load`` skips unusable dataset rows and records them in
:attr:`TextSuite.problems` (``DatasetError`` with file and line); ``pair`` returns its
problems as sentences. The suite's API is small on purpose: the runner, the CLI and the
built-in suites rely on exactly the methods below.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import DatasetError, SpecError
from ..spec import Spec
from ..text.view import TextView
from ..verdict import Verdict
from .base import Pair, ResponseRow, Sample

SCORE_CHUNK = 1024
"""Pairs judged between two yields of :meth:`TextSuite.score` (the collector's pause, see :func:`gc_paused`)."""


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector held off while one chunk of pairs is judged.

    Judging allocates many short-lived containers (views, verdicts, result rows) and each
    young-generation collection walks all that are alive, a full one every loaded model as
    well: 2-5 ms of a 47 ms IFEval pass. Reference counting frees everything as usual while
    it is paused; cycles made meanwhile wait for the end of the chunk (bounded by
    :data:`SCORE_CHUNK`), when the collector is back on. If the caller had disabled it, it
    stays disabled; another thread scoring at the same time at worst gets it back early.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


__all__ = ["KEY_FIELDS", "RESPONSE_FIELDS", "TextSuite"]

#: Where a responses row may carry its text, in order of preference.
RESPONSE_FIELDS: tuple[str, ...] = ("response", "completion", "output", "text")
#: Where a row may carry the key of its prompt, in order of preference.
KEY_FIELDS: tuple[str, ...] = ("key", "id")


def _opaque_key(value: Any, field: str, source: str, line: int | None) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise DatasetError(
            f"{field!r} must be an integer or a string, got {type(value).__name__} {value!r}", source, line
        )
    return value


class TextSuite:
    """Base class for prompt/response text suites (see the module docstring).

    Subclass it, set :attr:`name`, and override :meth:`sample_from_row` /
    :meth:`score_pair` / :meth:`summarize` as needed. The defaults make a working suite
    whose dataset rows are ``{"key" or "id", "prompt", "spec"}`` and whose verdict is
    the spec's.
    """

    name: str = "text"

    def __init__(self) -> None:
        #: Dataset rows the last :meth:`load` could not use, with file and line.
        self.problems: list[DatasetError] = []

    # -- loading -----------------------------------------------------------------------
    def default_rows(self) -> Iterable[tuple[int, Any]]:
        """(row number, row) of the suite's default data, used when ``load`` gets no path."""
        raise DatasetError(f"suite {self.name!r} has no default data; give a dataset file")

    @property
    def default_source(self) -> str:
        """How problems in the default data name their source."""
        return self.name

    def load(self, data: str | None = None) -> list[Sample]:
        """Samples from a JSONL file, or from :meth:`default_rows` when ``data`` is None.

        Unusable rows are skipped and recorded in :attr:`problems`; duplicate keys keep
        the first row.

        Raises:
            DatasetError: the file cannot be read at all.
        """
        self.problems = []
        if data is None:
            source = self.default_source
            rows: Iterable[tuple[int, Any]] = self.default_rows()
        else:
            source = str(data)
            rows = self._read_rows(Path(data))
        samples: list[Sample] = []
        seen: dict[str, int] = {}
        for line, row in rows:
            try:
                if not isinstance(row, Mapping):
                    raise DatasetError(f"expected a JSON object, got {type(row).__name__}", source, line)
                sample = self.sample_from_row(row, source, line)
            except DatasetError as exc:
                self.problems.append(exc)
                continue
            ident = str(sample.key)
            if ident in seen:
                msg = f"duplicate key {sample.key!r} (first on line {seen[ident]}); keeping the first"
                self.problems.append(DatasetError(msg, source, line))
                continue
            seen[ident] = line
            samples.append(sample)
        return samples

    def _read_rows(self, path: Path) -> list[tuple[int, Any]]:
        """(line, object) of a JSONL dataset file; bad lines go to :attr:`problems`.

        Suites whose datasets come in another file format override this hook.
        """
        from ..run.jsonl import read_objects  # the project's one robust JSONL reader

        notes: list[str] = []
        try:
            rows = [(obj.line, obj.value) for obj in read_objects(path, notes)]
        except OSError as exc:
            raise DatasetError(f"cannot read the dataset: {exc.strerror or exc}", str(path)) from None
        for note in notes:  # already "file:line: what happened"
            where, _, message = note.partition(": ")
            file, _, line = where.rpartition(":")
            self.problems.append(DatasetError(message, file, int(line)) if line.isdigit() else DatasetError(note))
        return rows

    def sample_from_row(self, row: Mapping[str, Any], source: str, line: int) -> Sample:
        """One sample from one dataset row; raise :class:`DatasetError` to skip the row.

        Default: ``{"key" or "id", "prompt", "spec"}`` where ``spec`` is a spec tree.
        """
        key = self._row_key(row, source, line)
        if key is None:
            raise DatasetError("the row needs a 'key' (or 'id')", source, line)
        prompt = row.get("prompt")
        if not isinstance(prompt, str):
            raise DatasetError(f"'prompt' must be a string, got {type(prompt).__name__}", source, line)
        try:
            spec = Spec.parse(row.get("spec"))
        except SpecError as exc:
            raise DatasetError(f"key {key!r}: invalid spec: {exc}", source, line) from None
        return Sample(key, prompt, spec)

    @staticmethod
    def _row_key(row: Mapping[str, Any], source: str, line: int | None) -> Any:
        for field in KEY_FIELDS:
            value = row.get(field)
            if value is not None:
                return _opaque_key(value, field, source, line)
        return None

    # -- responses ---------------------------------------------------------------------
    def parse_response(self, row: Mapping[str, Any], line: int) -> ResponseRow:
        """Normalise one responses-file row (see the module docstring for accepted shapes).

        Raises:
            DatasetError: the row has no usable text, or neither a key nor a prompt.
        """
        source = "responses"
        if not isinstance(row, Mapping):
            raise DatasetError(f"expected a JSON object, got {type(row).__name__}", source, line)
        text: Any = None
        for field in RESPONSE_FIELDS:
            if field in row:
                text = row[field]
                if not isinstance(text, str):
                    raise DatasetError(f"{field!r} must be a string, got {type(text).__name__}", source, line)
                break
        else:
            raise DatasetError(f"no response text: expected one of {list(RESPONSE_FIELDS)}", source, line)
        key = self._row_key(row, source, line)
        prompt = row.get("prompt")
        if prompt is not None and not isinstance(prompt, str):
            raise DatasetError(f"'prompt' must be a string, got {type(prompt).__name__}", source, line)
        if key is None and prompt is None:
            raise DatasetError("the row needs a 'key' (or 'id') or the 'prompt' to be matched", source, line)
        index = row.get("sample_index", 0)
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise DatasetError(f"'sample_index' must be a non-negative integer, got {index!r}", source, line)
        return ResponseRow(text=text, key=key, prompt=prompt, sample_index=index, line=line, raw=row)

    def pair(self, samples: Sequence[Sample], responses: Sequence[ResponseRow]) -> tuple[list[Pair], list[str]]:
        """Match responses to samples (key, then exact prompt, then stripped prompt).

        Returns one pair per (sample, sample index) found, in sample order, and a pair with
        ``None`` for every sample that got no response; plus human-readable problems.
        """
        problems: list[str] = []
        by_key = {str(s.key): s for s in samples}
        by_prompt: dict[str, list[Sample]] = {}
        by_stripped: dict[str, list[Sample]] = {}
        for s in samples:
            by_prompt.setdefault(s.prompt, []).append(s)
            by_stripped.setdefault(s.prompt.strip(), []).append(s)
        got: dict[int, dict[int, ResponseRow]] = {}  # id(sample) -> sample_index -> row

        def free(candidates: list[Sample], index: int) -> Sample:
            return next((s for s in candidates if index not in got.get(id(s), {})), candidates[0])

        for r in responses:
            where = f"responses line {r.line}" if r.line is not None else "a response"
            sample = by_key.get(str(r.key)) if r.key is not None else None
            if sample is None and r.prompt is not None:
                candidates = by_prompt.get(r.prompt) or by_stripped.get(r.prompt.strip())
                if candidates:
                    sample = free(candidates, r.sample_index)
            if sample is None:
                what = [f"key {r.key!r}"] if r.key is not None else []
                what += ["its prompt text"] if r.prompt is not None else []
                problems.append(f"{where}: no prompt matches {' or '.join(what)}; response ignored")
                continue
            slot = got.setdefault(id(sample), {})
            first = slot.get(r.sample_index)
            if first is not None:
                problems.append(
                    f"{where}: duplicate response for key {sample.key!r}"
                    + (f" (sample {r.sample_index})" if r.sample_index else "")
                    + f"; keeping the first (line {first.line})"
                )
                continue
            slot[r.sample_index] = r
        pairs: list[Pair] = []
        for s in samples:
            found = got.get(id(s))
            if not found:
                problems.append(f"key {s.key!r}: no response; it fails")
                pairs.append(Pair(s, None))
                continue
            pairs.extend(Pair(s, found[i]) for i in sorted(found))
        return pairs, problems

    # -- scoring -----------------------------------------------------------------------
    @staticmethod
    def view(pair: Pair) -> TextView | None:
        """The text view of a pair's response (with its prompt), or None without a response."""
        if pair.response is None:
            return None
        return TextView(pair.response.text, pair.sample.prompt)

    def score(self, pairs: Sequence[Pair]) -> Iterator[dict[str, Any]]:
        """One result row per pair, in order (see :meth:`score_pair`), judged a chunk at a time
        with the collector paused (:func:`gc_paused`)."""
        it = iter(pairs)
        while chunk := list(itertools.islice(it, SCORE_CHUNK)):
            with gc_paused():
                rows = [self.score_pair(pair) for pair in chunk]
            yield from rows

    def base_row(self, pair: Pair) -> dict[str, Any]:
        """The fields every text result row starts with: key, prompt, response (the runner adds
        the ``sample`` index)."""
        row: dict[str, Any] = {
            "key": pair.sample.key,
            "prompt": pair.sample.prompt,
            "response": None if pair.response is None else pair.response.text,
        }
        return row

    def score_pair(self, pair: Pair) -> dict[str, Any]:
        """Judge one pair. Default: the sample's payload is a :class:`Spec`."""
        row = self.base_row(pair)
        spec = pair.sample.payload
        view = self.view(pair)
        if not isinstance(spec, Spec):
            verdict = Verdict.of("suite", None, "the sample has no spec to judge with")
        elif view is None:
            verdict = Verdict.of("suite", False, "no response")
        else:
            verdict = spec.evaluate(view)
        row["verdict"] = verdict.to_dict()
        return row

    def summarize(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Default summary: counts of pass / fail / unscorable verdicts and the pass rate
        over the judged rows (None when no row could be judged)."""
        outcomes = [str(r.get("verdict", {}).get("outcome")) for r in rows]
        passed, failed = outcomes.count("pass"), outcomes.count("fail")
        judged = passed + failed
        return {
            "n": len(rows),
            "passed": passed,
            "failed": failed,
            "unscorable": len(rows) - judged,
            "pass_rate": passed / judged if judged else None,
        }
