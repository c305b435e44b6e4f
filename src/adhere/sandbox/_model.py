"""What a job is (a program, its tests, its limits) and what running it gives back.

Tests come in four shapes, and each keeps its expected value in the supervisor:

* :class:`Call` — call the entry point with arguments; the supervisor compares the
  returned value (exactly, or with the test's own comparator: a float tolerance, a set
  comparison, a dataset's special oracle);
* :class:`Check` — an assert statement rewritten: the child evaluates the parts of the
  statement that involve the program (``candidate(3)``), the supervisor evaluates the
  rest (``... == 6``) on the values returned;
* :class:`Assert` — a statement run as is inside the child; it passes when it completes.
  The weaker guarantee: the statement carries its expected values into the sandbox, so a
  program that inspects its caller could learn them. Used only where a test cannot be
  rewritten;
* :class:`Stdio` — run the whole program with this standard input and compare its
  standard output (exactly, whitespace-tolerantly, or line by line).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import SpecError
from ..verdict import Verdict
from ._values import preview

__all__ = [
    "NO_EXPECTATION",
    "STATUSES",
    "Assert",
    "Call",
    "Check",
    "Comparator",
    "Job",
    "JobResult",
    "Limits",
    "Status",
    "Stdio",
    "Test",
    "TestResult",
    "dedupe_default",
]

Status = Literal["passed", "failed", "error", "timeout", "memory", "output_limit", "not_run", "unscorable"]
STATUSES: tuple[Status, ...] = (
    "passed", "failed", "error", "timeout", "memory", "output_limit", "not_run", "unscorable",
)  # fmt: skip

#: What a comparator may return: ``True``/``False``, or a failure reason (a ``str``), or
#: ``(ok, reason)``.
Judgement = bool | str | tuple[bool, str]
#: ``compare(got, expected)``, run in the supervisor on plain data.
Comparator = Callable[[Any, Any], Judgement]


class _NoExpectation:
    """Marker: the test passes when the call returns (used to collect reference outputs)."""

    _instance: _NoExpectation | None = None

    def __new__(cls) -> _NoExpectation:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_EXPECTATION"

    def __reduce__(self) -> str:
        return "NO_EXPECTATION"


NO_EXPECTATION: Any = _NoExpectation()

_GIB = 1 << 30
_MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits of one job; the network is always off.

    Attributes:
        wall_seconds: wall-clock budget of the whole job (every test of it).
        cpu_seconds: CPU budget (``RLIMIT_CPU``, whole seconds); ``None``: the wall budget.
        memory_bytes: address-space cap (``RLIMIT_AS``); ``None``: no cap.
        output_bytes: cap on what the program may send back (results, standard output).
        processes: processes the job may run; 1 forbids ``fork`` (threads are fine).
        file_bytes: largest file the job may write (``RLIMIT_FSIZE``).
        test_seconds: wall-clock budget of each test (a test's own ``seconds`` wins).
    """

    wall_seconds: float = 10.0
    cpu_seconds: float | None = None
    memory_bytes: int | None = 4 * _GIB
    output_bytes: int = 64 * _MIB
    processes: int = 1
    file_bytes: int | None = 16 * _MIB
    test_seconds: float | None = None

    def __post_init__(self) -> None:
        def bad(name: str, expected: str, value: object) -> SpecError:
            return SpecError(f"expected {expected}, got {type(value).__name__} {value!r}", f"limits.{name}")

        for name in ("wall_seconds", "cpu_seconds", "test_seconds"):
            value = getattr(self, name)
            if value is None and name != "wall_seconds":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise bad(name, "a positive number of seconds", value)
        for name in ("memory_bytes", "file_bytes"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                raise bad(name, "a positive number of bytes or None", value)
        if isinstance(self.output_bytes, bool) or not isinstance(self.output_bytes, int) or self.output_bytes <= 0:
            raise bad("output_bytes", "a positive number of bytes", self.output_bytes)
        if isinstance(self.processes, bool) or not isinstance(self.processes, int) or self.processes < 1:
            raise bad("processes", "an integer >= 1", self.processes)

    def wire(self) -> dict[str, Any]:
        """The limits as the zygote reads them."""
        return {
            "wall": float(self.wall_seconds),
            "cpu": float(self.cpu_seconds if self.cpu_seconds is not None else self.wall_seconds),
            "memory": self.memory_bytes,
            "output": self.output_bytes,
            "processes": self.processes,
            "file": self.file_bytes,
        }


def _exact(got: Any, expected: Any) -> Judgement:
    return bool(got == expected)


@dataclass(frozen=True, eq=False)
class Call:
    """Call the entry point with ``args``/``kwargs``; compare the result with ``expected``.

    ``compare(got, expected)`` runs in the supervisor (default: ``==`` on plain data).
    With ``expected=NO_EXPECTATION`` the test passes when the call returns, and the value
    is kept in :attr:`TestResult.value` (how reference outputs are collected).
    """

    args: tuple[Any, ...] = ()
    expected: Any = NO_EXPECTATION
    kwargs: Mapping[str, Any] | None = None
    compare: Comparator | None = None
    seconds: float | None = None
    label: str = ""
    _payload: list[bytes] = field(default_factory=list, init=False, repr=False, compare=False)

    def probe(self) -> tuple[str, Any]:
        if not self._payload:  # pickled once, reused by every sample of the task
            self._payload.append(pickle.dumps((tuple(self.args), dict(self.kwargs or {})), protocol=5))
        return ("call", self._payload[0])


@dataclass(frozen=True, eq=False)
class Check:
    """An assertion split at the sandbox boundary: the child evaluates ``sources``
    (expressions over the program's names, with ``candidate`` bound to the entry point),
    the supervisor calls ``judge(values)`` on what they returned."""

    sources: tuple[str, ...]
    judge: Callable[[tuple[Any, ...]], Judgement]
    seconds: float | None = None
    label: str = ""

    def probe(self) -> tuple[str, Any]:
        return ("eval", list(self.sources))


@dataclass(frozen=True, eq=False)
class Assert:
    """A statement run inside the sandbox; it passes when it completes (weaker guarantee,
    see the module docstring)."""

    statement: str
    seconds: float | None = None
    label: str = ""

    def probe(self) -> tuple[str, Any]:
        return ("exec", self.statement)


StdioMode = Literal["exact", "whitespace", "lines"]


@dataclass(frozen=True, eq=False)
class Stdio:
    """Run the whole program with ``stdin``; compare its standard output with ``expected``.

    ``compare``: ``"exact"`` (byte for byte), ``"lines"`` (trailing spaces and trailing
    blank lines ignored), ``"whitespace"`` (the same whitespace-separated tokens), or a
    comparator ``(got, expected)``. ``expected=None``: pass when the program exits 0.
    """

    stdin: str | bytes = ""
    expected: str | bytes | None = None
    compare: StdioMode | Comparator = "exact"
    seconds: float | None = None
    label: str = ""


Test = Call | Check | Assert | Stdio


@dataclass(frozen=True, eq=False)
class Job:
    """A program and its tests, with the limits they run under.

    Attributes:
        program: Python source, run once per job (per test for :class:`Stdio` tests).
        tests: all :class:`Stdio`, or any mix of the other kinds.
        entry_point: the function :class:`Call` tests call (``candidate`` in checks).
        setup: code run in the program's namespace after it (test imports).
        stop_on_failure: stop at the first test that does not pass (as EvalPlus does).
        main: run the program with ``__name__ == "__main__"`` (call mode; script mode always does).
    """

    program: str
    tests: Sequence[Test] = ()
    entry_point: str | None = None
    limits: Limits = field(default_factory=Limits)
    setup: str = ""
    stop_on_failure: bool = True
    main: bool = False
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.program, str):
            raise SpecError(f"expected the program as a str, got {type(self.program).__name__}", "job.program")
        kinds = {type(t) for t in self.tests}
        if Stdio in kinds and len(kinds) > 1:
            raise SpecError("a job's tests are either all Stdio or none of them", "job.tests")
        for i, t in enumerate(self.tests):
            if not isinstance(t, (Call, Check, Assert, Stdio)):
                raise SpecError(f"expected Call, Check, Assert or Stdio, got {type(t).__name__}", f"job.tests[{i}]")
        if any(isinstance(t, Call) for t in self.tests) and not self.entry_point:
            raise SpecError("Call tests need an entry_point", "job.entry_point")

    @property
    def is_script(self) -> bool:
        return bool(self.tests) and isinstance(self.tests[0], Stdio)


@dataclass(frozen=True, slots=True)
class TestResult:
    """One test's outcome. ``value`` is what the program returned (plain data, or a
    ``Digest``/``Opaque``), or its standard output for :class:`Stdio` tests."""

    index: int
    status: Status
    duration: float | None = None
    reason: str = ""
    value: Any = None
    label: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.label:
            out["label"] = self.label
        if self.duration is not None:
            out["duration"] = round(self.duration, 6)
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class JobResult:
    """What running a job gave: an overall status, one result per test, and usage.

    ``status`` is ``passed`` when every test passed; ``unscorable`` when our machinery
    failed (never a failure of the program); otherwise the status of the first test that
    did not pass (or ``error`` when the program did not even load).
    """

    status: Status
    tests: tuple[TestResult, ...] = ()
    reason: str = ""
    duration: float = 0.0
    cpu_seconds: float | None = None
    max_rss_kb: int | None = None
    label: str = ""

    @property
    def passed(self) -> bool | None:
        """True, False, or None when unscorable."""
        if self.status == "unscorable":
            return None
        return self.status == "passed"

    def verdict(self, check: str = "code.tests", evidence: Mapping[str, Any] | None = None) -> Verdict:
        """The job as a verdict tree: one child per test that ran."""
        children = tuple(
            Verdict.of(
                f"{check}[{t.index}]",
                None if t.status == "unscorable" else t.passed,
                t.reason or t.status,
                {"status": t.status, **({"duration": round(t.duration, 6)} if t.duration is not None else {})},
            )
            for t in self.tests
            if t.status != "not_run"
        )
        ev: dict[str, Any] = {"status": self.status, "passed": sum(t.passed for t in self.tests)}
        ev["total"] = len(self.tests)
        if evidence:
            ev.update(evidence)
        return Verdict.of(check, self.passed, self.reason or self.status, ev, children=children)


def describe(value: Any) -> str:
    """How a returned value is shown in a reason."""
    return preview(value)


_OFF = frozenset({"0", "false", "no", "off"})


def dedupe_default() -> bool:
    """Whether a batch runs each distinct program once (``ADHERE_DEDUPE=0`` turns it off).

    The code suites (per task, within their window) and code-test labels (per call, for
    rows with the same tests) give every sample its own row or verdict from one shared run:
    a job is deterministic (the harness seeds ``random``, hashing is seeded), so running a
    byte-identical program on the same tests again can only cost time.
    """
    return os.environ.get("ADHERE_DEDUPE", "1").strip().lower() not in _OFF
