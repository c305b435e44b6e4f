"""The one registry of checks.

A check is a small, pure, versioned function registered by id with :func:`check`::

    class WordsParams(Params):
        min: int | None = None
        max: int | None = None

    @check("length.words", params=WordsParams, tags=("length",),
           description="Number of words within [min, max].")
    def words(view: TextView, p: WordsParams) -> Finding:
        n = view.word_count
        return Finding(p.min is None or n >= p.min, f"found {n} words", {"words": n})

The registry remembers id, version, parameter model (a pydantic model: precise
validation errors and a JSON schema for free), subject, description and tags, so a
spec can be listed, validated, serialised and rebuilt. Third-party packages add checks
through the ``adhere.checks`` entry-point group (set ``ADHERE_NO_PLUGINS=1`` to skip them).
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import SpecError

__all__ = [
    "REGISTRY",
    "CheckInfo",
    "CheckRegistry",
    "Finding",
    "Params",
    "SubjectKind",
    "check",
]

SubjectKind = Literal["response", "conversation", "program", "trajectory"]
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class Params(BaseModel):
    """Base of every check's parameter model: strict about unknown keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    """For checks that take no parameters."""


class Finding(NamedTuple):
    """What a check function returns; the engine wraps it into a :class:`Verdict`.

    ``ok`` is True (pass), False (fail) or None (unscorable). ``score`` defaults to
    1.0/0.0 from ``ok``; partial-credit checks set it.
    """

    ok: bool | None
    reason: str
    evidence: Mapping[str, Any] = {}
    score: float | None = None


CheckFn = Callable[[Any, Any], Finding]
F = TypeVar("F", bound=Callable[..., Finding])


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """A registry entry: everything needed to validate, run, list and document a check."""

    id: str
    fn: CheckFn
    params: type[Params]
    version: str = "1"
    subject: SubjectKind = "response"
    description: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)

    def parse_params(self, raw: Mapping[str, Any] | None, path: str = "") -> Params:
        """Validate raw parameters; errors name the path, the expectation and the input."""
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise SpecError(
                f"parameters of {self.id!r} must be an object, got {type(raw).__name__} {raw!r}",
                path,
            )
        try:
            return self.params.model_validate(dict(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            where = f"{path}.{loc}" if path and loc else (path or loc)
            allowed = ", ".join(self.params.model_fields) or "none"
            raise SpecError(
                f"{err['msg']} (check {self.id!r}; got {err.get('input')!r}; parameters: {allowed})",
                where,
            ) from None

    def schema(self) -> dict[str, Any]:
        return self.params.model_json_schema()


class CheckRegistry:
    """Id → :class:`CheckInfo`, with lazy loading of built-ins and plugins."""

    def __init__(self) -> None:
        self._checks: dict[str, CheckInfo] = {}
        self._loaded = False
        self._loading = False
        self._lock = threading.RLock()

    def register(self, info: CheckInfo) -> None:
        if not _ID_RE.match(info.id):
            raise SpecError(f"check id {info.id!r} must be dotted lowercase, like 'length.words'")
        old = self._checks.get(info.id)
        if old is not None and old.fn is not info.fn:
            raise SpecError(f"check id {info.id!r} is registered twice")
        self._checks[info.id] = info

    def _ensure_loaded(self) -> None:
        # Threads (async reward functions, trainers' worker threads) may ask at once: the
        # others wait until every check is registered; re-entry while loading returns.
        if self._loaded:
            return
        with self._lock:
            if self._loaded or self._loading:
                return
            self._loading = True
            try:
                importlib.import_module("adhere.checks")
                if os.environ.get("ADHERE_NO_PLUGINS", "") not in ("1", "true", "yes"):
                    from importlib.metadata import entry_points

                    for ep in entry_points(group="adhere.checks"):
                        ep.load()
                self._loaded = True
            finally:
                self._loading = False

    def get(self, check_id: str, path: str = "") -> CheckInfo:
        self._ensure_loaded()
        if not isinstance(check_id, str):  # before the lookup: a list or dict id is unhashable
            raise SpecError(f"a check id must be a string, got {type(check_id).__name__}", path)
        info = self._checks.get(check_id)
        if info is None:
            close = difflib.get_close_matches(check_id, self._checks, n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise SpecError(f"unknown check id {check_id!r}{hint} (`adhere list` shows the catalog)", path)
        return info

    def __contains__(self, check_id: object) -> bool:
        self._ensure_loaded()
        return check_id in self._checks

    def __iter__(self) -> Iterator[CheckInfo]:
        self._ensure_loaded()
        return iter(sorted(self._checks.values(), key=lambda c: c.id))

    def __len__(self) -> int:
        self._ensure_loaded()
        return len(self._checks)

    def search(self, query: str = "", tags: Iterable[str] = ()) -> list[CheckInfo]:
        """Checks whose id or description contains ``query`` and that carry every tag."""
        q = query.lower()
        want = set(tags)
        return [c for c in self if (q in c.id or q in c.description.lower()) and want <= c.tags]


REGISTRY = CheckRegistry()


def check(
    check_id: str,
    *,
    params: type[Params] = NoParams,
    version: str = "1",
    subject: SubjectKind = "response",
    description: str = "",
    tags: Iterable[str] = (),
    registry: CheckRegistry | None = None,
) -> Callable[[F], F]:
    """Register a check function under ``check_id`` (see the module docstring)."""

    def deco(fn: F) -> F:
        desc = description or (fn.__doc__ or "").strip().split("\n")[0]
        (registry or REGISTRY).register(CheckInfo(check_id, fn, params, version, subject, desc, frozenset(tags)))
        return fn

    return deco
