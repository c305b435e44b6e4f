"""The suite contract shared by every benchmark adhere runs.

A suite turns a dataset into :class:`Sample` objects, pairs them with responses,
scores the pairs into result rows (one JSON object each, the suite's own layout, always
with a ``"verdict"`` tree), and summarises rows into headline numbers. The runner
(:mod:`adhere.run`) owns reading files, resuming and writing; suites own meaning.

Scoring is batch-first (``score`` takes many pairs) so code suites can fan jobs out
to the sandbox pool while text suites simply loop.

Resuming relies on each row naming its pair: the sample's key under ``key`` (or
``task_id`` / ``id``) and the response's ``sample_index`` under ``sample`` (the runner
adds ``sample`` when a row lacks it). Optional hooks the runner uses when present:
``row_key(row)`` (where a row keeps its key, if elsewhere), ``problems`` (dataset rows
``load`` skipped), ``default_responses(data) -> Path | None`` (responses shipped with
the data, as the demo suite's) and ``uses_checks = False`` (verdicts never come from
registered checks, so the manifest need not list, and import, them all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..errors import SpecError

__all__ = ["SUITES", "Pair", "ResponseRow", "Sample", "Suite", "get_suite", "register_suite"]


@dataclass(frozen=True)
class Sample:
    """One prompt/task of a suite.

    ``key`` is the dataset's own identifier, kept opaque (int or str) and written back
    unchanged; ``payload`` is whatever the suite needs to score (a Spec, tests, ...).
    """

    key: Any
    prompt: str
    payload: Any = None
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResponseRow:
    """One row of a responses file, normalised: which sample it answers, and the text."""

    text: str
    key: Any = None
    prompt: str | None = None
    sample_index: int = 0
    line: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pair:
    """A sample with one response (``response is None`` when none was found: scored as failing)."""

    sample: Sample
    response: ResponseRow | None


@runtime_checkable
class Suite(Protocol):
    """What the runner needs from a suite."""

    name: str

    def load(self, data: str | None = None) -> list[Sample]:
        """Samples from a local path, or from the suite's default (built-in or Hugging Face)."""
        ...

    def parse_response(self, row: Mapping[str, Any], line: int) -> ResponseRow:
        """Normalise one responses-file row; raise DatasetError when it is unusable."""
        ...

    def pair(self, samples: Sequence[Sample], responses: Sequence[ResponseRow]) -> tuple[list[Pair], list[str]]:
        """Match responses to samples; return the pairs and human-readable problems."""
        ...

    def score(self, pairs: Sequence[Pair]) -> Iterator[dict[str, Any]]:
        """One result row per pair, in order, each with a ``"verdict"`` tree."""
        ...

    def summarize(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Headline numbers from result rows."""
        ...


SUITES: dict[str, Callable[[], Suite]] = {}


def register_suite(name: str, factory: Callable[[], Suite]) -> None:
    SUITES[name] = factory


_SUITE_MODULES = {name: "code" for name in ("humaneval", "humaneval+", "mbpp", "mbpp-sanitized", "mbpp+")}
"""Where a built-in suite is registered, when it is not the first module tried (a hint:
``adhere eval humaneval`` need not import IFEval's checks; a wrong hint only costs time)."""


def get_suite(name: str) -> Suite:
    """The built-in suite ``name`` (modules are imported on demand)."""
    import importlib

    home = _SUITE_MODULES.get(name.lower())  # try the suite's own module first
    for module in ((home,) if home else ()) + ("ifeval", "demo", "code", "ifbench", "muldimif", "labels"):
        if name in SUITES:  # stop early: `adhere eval ifeval` need not import the sandbox and numpy
            break
        try:
            importlib.import_module(f"adhere.suites.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"adhere.suites.{module}":
                raise
    factory = SUITES.get(name)
    if factory is None:
        import difflib

        close = difflib.get_close_matches(name, SUITES, n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise SpecError(f"unknown suite {name!r}{hint} (built in: {', '.join(sorted(SUITES))})")
    return factory()
