"""Run untrusted programs fast and safely; judge their results outside the sandbox.

    from adhere.sandbox import Call, Job, Limits, LocalExecutor

    with LocalExecutor(workers=2) as ex:
        [result] = ex.run([Job("def add(a, b): return a + b", [Call((1, 2), 3)], entry_point="add")])
        result.status  # "passed"

A job is a program, its tests and its :class:`Limits`. The default
:class:`LocalExecutor` keeps one warm *zygote* process per worker, started in fresh
Linux namespaces (user, pid, net, mount, ipc, uts) with a private read-only root and a
small writable work area; each job is a fork of a zygote that sets rlimits, loads a
seccomp filter, closes every descriptor but its result pipe, and runs. The supervisor
(this process) enforces wall-clock deadlines, caps output, reaps, and replaces dead
zygotes. Verdicts are decided here, on plain data the child sends back: expected values
never enter the sandbox. Where the kernel refuses namespaces or seccomp, the executor
says so once and keeps the protections it has (``adhere doctor`` lists them).
"""

from ._compiled import CompileFailure, compiled
from ._local import DEFAULT_PRELOAD, LocalExecutor, Protections, default_executor
from ._model import (
    NO_EXPECTATION,
    STATUSES,
    Assert,
    Call,
    Check,
    Comparator,
    Job,
    JobResult,
    Limits,
    Status,
    Stdio,
    Test,
    TestResult,
    dedupe_default,
)
from ._values import Digest, Opaque

__all__ = [
    "DEFAULT_PRELOAD",
    "NO_EXPECTATION",
    "STATUSES",
    "Assert",
    "Call",
    "Check",
    "Comparator",
    "CompileFailure",
    "Digest",
    "Job",
    "JobResult",
    "Limits",
    "LocalExecutor",
    "Opaque",
    "Protections",
    "Status",
    "Stdio",
    "Test",
    "TestResult",
    "compiled",
    "dedupe_default",
    "default_executor",
]
