"""The executor's contract: tests of every kind, every status, limits, sync and async, and
unscorable (never failed) when our own machinery breaks."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from concurrent.futures import wait
from typing import Any

import pytest

from adhere.errors import SandboxError, SpecError
from adhere.sandbox import (
    NO_EXPECTATION,
    Assert,
    Call,
    Check,
    Digest,
    Job,
    JobResult,
    Limits,
    LocalExecutor,
    Opaque,
    Stdio,
)

ADD = "def add(a, b):\n    return a + b\n"


def statuses(result: JobResult) -> list[str]:
    return [t.status for t in result.tests]


def test_call_tests_pass_and_fail(executor: LocalExecutor) -> None:
    job = Job(ADD, [Call((1, 2), 3), Call((2, 2), 5), Call(("a", "b"), "ab")], entry_point="add", stop_on_failure=False)
    [r] = executor.run([job])
    assert statuses(r) == ["passed", "failed", "passed"]
    assert r.status == "failed" and r.passed is False
    assert r.tests[1].reason == "returned 4, expected 5"
    assert r.tests[1].value == 4 and r.tests[0].duration is not None


def test_stop_on_failure_skips_the_rest(executor: LocalExecutor) -> None:
    [r] = executor.run([Job(ADD, [Call((1, 1), 3), Call((1, 2), 3)], entry_point="add")])
    assert statuses(r) == ["failed", "not_run"]
    assert r.status == "failed"


def test_stop_on_failure_gives_the_same_tree_whatever_the_timing(executor: LocalExecutor) -> None:
    """The cancel after a wrong answer lands a test or two late, depending on timing; the
    results must not show it (it made the tests after a failure 'passed' in some runs and
    'not_run' in others)."""
    program = "import time\ndef f(x):\n    time.sleep(0.002)\n    return x\n"
    tests = [Call((i,), -1 if i == 1 else i) for i in range(8)]
    results = executor.run([Job(program, tests, entry_point="f")] * 24)
    seen = {tuple(statuses(r)) for r in results}
    assert seen == {("passed", "failed") + ("not_run",) * 6}
    assert {r.reason for r in results} == {"test 1: returned 1, expected -1"}


def test_values_keep_their_types(executor: LocalExecutor) -> None:
    program = (
        "def f(kind):\n    return {'t': (1, 2), 's': {1, 2}, 'c': 1+2j, 'b': b'x', 'n': None, 'big': 2**100}[kind]\n"
    )
    tests = [Call((k,)) for k in ("t", "s", "c", "b", "n", "big")]
    [r] = executor.run([Job(program, tests, entry_point="f")])
    assert [t.value for t in r.tests] == [(1, 2), {1, 2}, 1 + 2j, b"x", None, 2**100]
    assert type(r.tests[0].value) is tuple and type(r.tests[1].value) is set


def test_expected_tuple_is_not_a_list(executor: LocalExecutor) -> None:
    [r] = executor.run([Job("def f():\n    return [1, 2]\n", [Call((), (1, 2))], entry_point="f")])
    assert r.status == "failed"  # [1, 2] != (1, 2), as in Python


def test_custom_comparator_runs_here(executor: LocalExecutor) -> None:
    seen: list[tuple[object, object]] = []

    def close(got: object, expected: object) -> bool | str:
        seen.append((got, expected))
        assert isinstance(got, float) and isinstance(expected, float)
        return abs(got - expected) < 1e-6 or f"{got} is not close to {expected}"

    [r] = executor.run(
        [Job("def f(x):\n    return x / 3\n", [Call((1.0,), 0.3333333, compare=close)], entry_point="f")]
    )
    assert r.status == "passed" and seen == [(1.0 / 3, 0.3333333)]


def test_no_expectation_collects_the_value(executor: LocalExecutor) -> None:
    [r] = executor.run([Job(ADD, [Call((40, 2), NO_EXPECTATION)], entry_point="add")])
    assert r.passed and r.tests[0].value == 42


def test_large_values_travel_as_digests(executor: LocalExecutor) -> None:
    program = "def f(n, kind):\n    return [float(i) for i in range(n)] if kind else list(range(n))\n"
    tests = [Call((100_000, 0)), Call((100_000, 1)), Call((100_001, 0))]
    [r] = executor.run([Job(program, tests, entry_point="f")])
    ints, floats, longer = (t.value for t in r.tests)
    assert isinstance(ints, Digest) and ints == floats != longer  # 1 == 1.0, as Python says
    [r2] = executor.run([Job(program, [Call((100_000, 0), ints)], entry_point="f")])
    assert r2.passed


def test_check_splits_the_assert_at_the_boundary(executor: LocalExecutor) -> None:
    tests = [
        Check(("candidate(2, 3)",), lambda v: v[0] == 5),
        Check(("candidate(2, 3)", "candidate(1, 1)"), lambda v: v[0] > v[1]),
        Check(("candidate(0, 0)",), lambda v: (v[0] == 1, "expected 1")),
    ]
    [r] = executor.run([Job(ADD, tests, entry_point="add", stop_on_failure=False)])
    assert statuses(r) == ["passed", "passed", "failed"]
    assert r.tests[2].reason == "expected 1"


def test_assert_statements_run_inside(executor: LocalExecutor) -> None:
    tests = [Assert("assert add(1, 2) == 3"), Assert("assert add(1, 2) == 4, 'nope'")]
    [r] = executor.run([Job(ADD, tests, stop_on_failure=False)])
    assert statuses(r) == ["passed", "failed"]
    assert r.tests[1].reason == "assertion failed: nope"


def test_setup_runs_in_the_program_namespace(executor: LocalExecutor) -> None:
    [r] = executor.run(
        [Job("def f(x):\n    return math.sqrt(x)\n", [Call((4,), 2.0)], entry_point="f", setup="import math")]
    )
    assert r.passed


def test_stdio_programs(executor: LocalExecutor) -> None:
    program = "n = int(input())\nprint(' '.join(str(i) for i in range(n)))\n"
    tests = [
        Stdio("3\n", "0 1 2\n"),
        Stdio("2\n", "0  1", compare="whitespace"),
        Stdio("2\n", "0 1  \n\n", compare="lines"),
        Stdio("2\n", "0 1"),
    ]
    [r] = executor.run([Job(program, tests, stop_on_failure=False)])
    assert statuses(r) == ["passed", "passed", "passed", "failed"]
    assert r.tests[0].value == "0 1 2\n"


def test_stdio_runtime_error_and_exit_code(executor: LocalExecutor) -> None:
    tests = [Stdio("", "x")]
    [boom] = executor.run([Job("raise ValueError('bad input')", tests)])
    [code] = executor.run([Job("import sys\nprint('x', end='')\nsys.exit(3)", tests)])
    [ok] = executor.run([Job("import sys\nprint('x', end='')\nsys.exit(0)", tests)])
    assert boom.status == "error" and "ValueError: bad input" in boom.reason
    assert code.status == "error" and "code 3" in code.reason
    assert ok.passed


def test_load_errors(executor: LocalExecutor) -> None:
    syntax, missing, raising = executor.run(
        [
            Job("def add(a, b) return a", [Call((1, 2), 3)], entry_point="add"),
            Job("def plus(a, b):\n    return a + b\n", [Call((1, 2), 3)], entry_point="add"),
            Job("raise RuntimeError('at import')", [Call((1, 2), 3)], entry_point="add"),
        ]
    )
    assert syntax.status == "error" and "SyntaxError" in syntax.reason
    assert missing.status == "error" and "defines no function 'add'" in missing.reason
    assert raising.status == "error" and "RuntimeError: at import" in raising.reason
    assert all(t.status == "not_run" for r in (syntax, missing, raising) for t in r.tests)


def test_exceptions_and_memory_errors(executor: LocalExecutor) -> None:
    program = "def f(x):\n    if x == 0:\n        raise KeyError('k')\n    return bytearray(10**10)\n"
    [r] = executor.run([Job(program, [Call((0,), 1), Call((1,), 1)], entry_point="f", stop_on_failure=False,
                            limits=Limits(memory_bytes=512 << 20))])  # fmt: skip
    assert statuses(r) == ["error", "memory"]
    assert r.tests[0].reason == "raised KeyError: 'k'"


def test_per_test_and_whole_job_timeouts(executor: LocalExecutor) -> None:
    program = "import time\ndef f(x):\n    time.sleep(x)\n    return x\n"
    per_test = Job(program, [Call((0.0,), 0.0), Call((30,), 30, seconds=0.3), Call((0.0,), 0.0)], entry_point="f")
    whole = Job(program, [Call((30,), 30)], entry_point="f", limits=Limits(wall_seconds=0.5))
    t0 = time.monotonic()
    a, b = executor.run([per_test, whole])
    assert time.monotonic() - t0 < 10
    assert statuses(a) == ["passed", "timeout", "not_run"] and a.tests[1].reason == "timed out after 0.3 s"
    assert b.status == "timeout" and b.tests[0].reason == "timed out after 0.5 s"


def test_cpu_limit(executor: LocalExecutor) -> None:
    job = Job("def f():\n    while True:\n        pass\n", [Call((), 1)], entry_point="f",
              limits=Limits(wall_seconds=30, cpu_seconds=1))  # fmt: skip
    [r] = executor.run([job])
    assert r.status == "timeout" and "CPU" in r.reason


def test_output_limit(executor: LocalExecutor) -> None:
    job = Job("def f():\n    return 'x' * 100\n", [Call((), "") for _ in range(50)], entry_point="f",
              limits=Limits(output_bytes=2000), stop_on_failure=False)  # fmt: skip
    [r] = executor.run([job])
    assert r.status in ("output_limit", "failed")
    assert any(t.status == "output_limit" for t in r.tests)


def test_async_run(executor: LocalExecutor) -> None:
    async def main() -> list[bool | None]:
        results = await executor.run_async([Job(ADD, [Call((i, i), 2 * i)], entry_point="add") for i in range(8)])
        return [r.passed for r in results]

    assert asyncio.run(main()) == [True] * 8


def test_many_jobs_from_many_threads(executor: LocalExecutor) -> None:
    out: list[bool | None] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        rs = executor.run([Job(ADD, [Call((k, j), k + j)], entry_point="add") for j in range(10)])
        with lock:
            out.extend(r.passed for r in rs)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [True] * 40


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"wall_seconds": 0}, "limits.wall_seconds"),
        ({"wall_seconds": "1"}, "limits.wall_seconds"),
        ({"cpu_seconds": -1}, "limits.cpu_seconds"),
        ({"memory_bytes": 1.5}, "limits.memory_bytes"),
        ({"output_bytes": 0}, "limits.output_bytes"),
        ({"processes": 0}, "limits.processes"),
        ({"processes": True}, "limits.processes"),
    ],
)
def test_bad_limits_name_the_field(kwargs: dict[str, object], path: str) -> None:
    with pytest.raises(SpecError) as info:
        Limits(**kwargs)  # type: ignore[arg-type]
    assert info.value.path == path


def test_bad_jobs() -> None:
    with pytest.raises(SpecError, match="entry_point"):
        Job("x = 1", [Call((), 1)])
    with pytest.raises(SpecError, match="all Stdio"):
        Job("x = 1", [Stdio("", ""), Assert("assert True")])
    with pytest.raises(SpecError, match="expected the program as a str"):
        Job(b"x = 1", [])  # type: ignore[arg-type]


@pytest.mark.parametrize("isolation", ["auto", "none"])
def test_a_dead_zygote_is_replaced_and_the_job_retried(pool: Any, processes_below: Any, isolation: str) -> None:
    """The job running under a killed zygote dies with it (in a pid namespace the kernel
    kills it, elsewhere its death signal does) and is retried on a fresh zygote."""
    ex = LocalExecutor(workers=1, isolation=isolation).start()
    try:
        [victim] = ex.zygote_pids()
        fut = ex.submit(Job("import time\ndef f():\n    time.sleep(2)\n    return 1\n", [Call((), 1)], entry_point="f"))
        time.sleep(0.3)
        below = processes_below(victim)
        assert below  # the job (and, in a pid namespace, the inner zygote) is running
        os.kill(victim, signal.SIGKILL)  # our machinery breaks under the job
        deadline = time.monotonic() + 1.0  # killed, not left to end its sleep (and die writing)
        while any(state(pid) not in ("Z", "X", "") for pid in below) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert all(state(pid) in ("Z", "X", "") for pid in below), "a job outlived its zygote"
        result = fut.result(timeout=30)
        assert result.passed  # retried on a fresh zygote
        assert ex.zygote_pids() != [victim] and ex.respawns == 1
    finally:
        ex.close()
    pool.assert_intact()  # the shared pool was not touched


def state(pid: int) -> str:
    """A process's state letter from /proc ("" when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0].decode()
    except OSError:
        return ""


def test_each_job_is_a_fresh_spare_and_a_lost_spare_costs_nothing(executor: LocalExecutor, pool: Any) -> None:
    """The child forked ahead for the next job takes it, and a new spare follows; if the
    spare is gone (killed from outside), the job is forked as it comes and still passes."""
    job = Job(ADD, [Call((1, 2), 3)], entry_point="add")
    before = pool.spares()
    assert len(before) == executor.workers
    assert [r.status for r in executor.run([job] * executor.workers)] == ["passed"] * executor.workers
    after = pool.spares()
    assert not set(before) & set(after)  # the spares became the jobs; new ones wait
    for pid in after:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(state(pid) not in ("Z", "X", "") for pid in after) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [r.status for r in executor.run([job] * (2 * executor.workers))] == ["passed"] * (2 * executor.workers)
    pool.assert_intact()


def test_without_spares_each_child_is_forked_when_its_job_comes(processes_below: Any) -> None:
    with LocalExecutor(workers=1, spares=False) as ex:
        job = Job(ADD, [Call((1, 2), 3)], entry_point="add")
        assert [r.status for r in ex.run([job] * 3)] == ["passed"] * 3
        [zygote] = ex.zygote_pids()
        inner = 1 if ex.protections().namespaces.get("pid") else 0
        deadline = time.monotonic() + 5
        while len(processes_below(zygote)) != inner and time.monotonic() < deadline:
            time.sleep(0.01)  # the last job's teardown
        assert len(processes_below(zygote)) == inner  # at rest, and no spare waits


def test_machinery_failing_twice_is_unscorable_not_failed() -> None:
    ex = LocalExecutor(workers=1).start()
    try:
        fut = ex.submit(Job("import time\ndef f():\n    time.sleep(3)\n    return 1\n", [Call((), 1)], entry_point="f"))
        for _ in range(2):
            time.sleep(0.5)
            for pid in ex.zygote_pids():
                os.kill(pid, signal.SIGKILL)
        result = fut.result(timeout=30)
        assert result.status == "unscorable" and result.passed is None
        assert "failed twice" in result.reason
        assert result.verdict().unscorable and result.verdict().score is None
    finally:
        ex.close()


def test_a_zygote_that_cannot_start_is_a_sandbox_error() -> None:
    ex = LocalExecutor(workers=1, python="/nonexistent/python3")
    with pytest.raises((SandboxError, OSError)):
        ex.start()


def test_opaque_results_equal_nothing(executor: LocalExecutor) -> None:
    program = "class P:\n    pass\ndef f():\n    return P()\n"
    [r] = executor.run([Job(program, [Call((), NO_EXPECTATION)], entry_point="f")])
    value = r.tests[0].value
    assert isinstance(value, Opaque) and value != value and value.type_name.endswith("P")


def test_verdict_tree(executor: LocalExecutor) -> None:
    [r] = executor.run([Job(ADD, [Call((1, 2), 3), Call((1, 1), 3)], entry_point="add", stop_on_failure=False)])
    v = r.verdict("code.demo")
    assert v.failed and v.evidence["passed"] == 1 and v.evidence["total"] == 2
    assert [c.outcome for c in v.children] == ["pass", "fail"]


def test_degraded_mode_says_so_once_and_still_judges(caplog: pytest.LogCaptureFixture) -> None:
    from adhere.sandbox import _local

    _local._warned = False
    with caplog.at_level("WARNING", logger="adhere.sandbox"):
        with LocalExecutor(workers=1, isolation="none") as ex:
            p = ex.protections()
            good, bad = ex.run(
                [Job(ADD, [Call((1, 2), 3)], entry_point="add"), Job(ADD, [Call((1, 2), 4)], entry_point="add")]
            )
        with LocalExecutor(workers=1, isolation="none") as ex2:
            ex2.run([Job(ADD, [Call((1, 2), 3)], entry_point="add")])
    assert not p.namespaces.get("pid") and p.filesystem == "shared"
    assert good.passed and bad.passed is False
    warnings = [r for r in caplog.records if "adhere sandbox: running without" in r.getMessage()]
    assert len(warnings) == 1 and "pid namespace" in warnings[0].getMessage()


def _at_rest(pid: int, processes_below: Any, inner: int) -> set[int]:
    """The processes below a zygote once it rests (its pid-1 half, if any, and one spare)."""
    deadline = time.monotonic() + 10
    while True:
        below = set(processes_below(pid))
        if len(below) == inner + 1 or time.monotonic() > deadline:
            return below
        time.sleep(0.01)


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and hasattr(os, "pidfd_open") and hasattr(os, "memfd_create")),
    reason="needs spares (pidfd and memfd) to tell which zygote ran a job",
)
def test_overflow_slots_take_jobs_only_while_other_slots_hold_long_ones(processes_below: Any) -> None:
    """``active=1`` of 2 zygotes: short jobs all go to the first (the second's spare is never
    used); while a job holds the first for longer than ``overflow_after``, the second takes
    the short jobs queued behind it."""
    short = Job(ADD, [Call((1, 2), 3)], entry_point="add")
    long = Job("import time\ndef f():\n    time.sleep(4)\n    return 1\n", [Call((), 1)], entry_point="f")
    with LocalExecutor(workers=2, active=1, overflow_after=1.0) as ex:
        inner = 1 if ex.protections().namespaces.get("pid") else 0
        first, second = ex.zygote_pids()
        idle_first, idle_second = _at_rest(first, processes_below, inner), _at_rest(second, processes_below, inner)
        assert [r.status for r in ex.run([short] * 8)] == ["passed"] * 8
        assert _at_rest(first, processes_below, inner) != idle_first  # its spares took the jobs
        assert _at_rest(second, processes_below, inner) == idle_second  # the overflow slot stayed idle

        held = ex.submit(long)
        time.sleep(0.2)  # the long job has the first slot
        behind = [ex.submit(short) for _ in range(3)]
        done, _ = wait(behind, timeout=3.5)
        assert len(done) == 3 and not held.done()  # served by the overflow slot, not after the loop
        assert all(f.result().passed for f in behind)
        assert held.result(timeout=30).passed
        assert _at_rest(second, processes_below, inner) != idle_second


def test_an_overflow_slot_stops_taking_jobs_once_the_long_ones_end(processes_below: Any) -> None:
    """The overflow slot was needed while a long job held the active one, then waited for work;
    jobs that come after the long job ended must go to the active slot, not to it."""
    short = Job(ADD, [Call((1, 2), 3)], entry_point="add")
    long = Job("import time\ndef f():\n    time.sleep(1.5)\n    return 1\n", [Call((), 1)], entry_point="f")
    with LocalExecutor(workers=2, active=1, overflow_after=0.4) as ex:
        inner = 1 if ex.protections().namespaces.get("pid") else 0
        first, second = ex.zygote_pids()
        assert ex.run([long])[0].passed  # held the active slot 1.5 s: the overflow slot was needed
        time.sleep(0.5)  # longer than the overflow slot's period (0.2 s): it has looked again
        idle_first, idle_second = _at_rest(first, processes_below, inner), _at_rest(second, processes_below, inner)
        for _ in range(6):  # one at a time, as a lone client sends them
            assert ex.run([short])[0].passed
        assert _at_rest(first, processes_below, inner) != idle_first
        assert _at_rest(second, processes_below, inner) == idle_second
