"""Bytecode compiled by the submitter: the child's own compile, made before the fork."""

from __future__ import annotations

import gzip
import json
import marshal
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from adhere.sandbox import Assert, Call, CompileFailure, Job, LocalExecutor, Stdio, _harness, compiled
from adhere.sandbox._compiled import BytecodeCache, bytecode_magic

HUMANEVAL = Path("../shared/data/humaneval/HumanEval.jsonl.gz")


def test_the_bytecode_is_the_childs_compile_for_every_humaneval_program_and_test_file() -> None:
    if not HUMANEVAL.exists():
        pytest.skip("shared HumanEval data not found")
    with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as f:
        problems = [json.loads(line) for line in f]
    for p in problems:
        for source, name in ((p["prompt"] + p["canonical_solution"], "<solution>"), (p["test"], "<setup>")):
            data = compiled(source, name)
            assert isinstance(data, bytes), p["task_id"]
            assert marshal.loads(data) == compile(source, name, "exec", dont_inherit=True, optimize=0)


def test_asserts_survive_an_optimising_submitter() -> None:
    """A submitter started with ``python -O`` must not ship code with its asserts stripped."""
    script = (
        "from adhere.sandbox import compiled; import sys; "
        "sys.stdout.buffer.write(compiled('assert 1 == 2, \"kept\"', '<test>'))"
    )
    data = subprocess.run([sys.executable, "-O", "-c", script], capture_output=True, check=True).stdout
    with pytest.raises(AssertionError, match="kept"):
        exec(marshal.loads(data), {})


def test_what_does_not_compile_says_why_and_is_not_shipped() -> None:
    failure = compiled("def f(:\n    pass\n", "<solution>")
    assert isinstance(failure, CompileFailure)
    assert isinstance(failure.exception, SyntaxError) and failure.exception.lineno == 1
    assert isinstance(compiled("x = 1\x00", "<solution>"), CompileFailure)  # ValueError: null bytes


def test_compile_warnings_stay_quiet_and_filters_are_restored() -> None:
    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = compiled("x = 1\nprint(x is 1)\n", "<solution>-warn")
        assert isinstance(data, bytes)
        assert caught == []
    assert warnings.filters == before


def test_the_cache_drops_the_least_recently_used_past_its_size() -> None:
    cache = BytecodeCache(max_bytes=20_000)
    sources = [f"x{i} = {i}\n" * 50 for i in range(40)]
    for s in sources:
        cache.get(s, "<solution>")
    assert 0 < cache.size <= 20_000
    assert len(cache) < len(sources)
    first = cache.get(sources[-1], "<solution>")
    assert cache.get(sources[-1], "<solution>") is first  # kept: the same bytes object
    huge = "y = 1\n" * 1000  # over an eighth of the budget: compiled, not kept
    n = len(cache)
    assert isinstance(cache.get(huge, "<solution>"), bytes) and len(cache) == n


def test_the_harness_loads_the_shipped_code_and_compiles_what_was_not_shipped() -> None:
    other = compiled("value = 'shipped'", "<solution>")
    assert isinstance(other, bytes)
    job = {"compiled": {("exec", "<solution>", "value = 'source'"): other}}
    shipped: dict[str, object] = {}
    exec(_harness._code(job, "value = 'source'", "<solution>", "exec"), shipped)
    assert shipped["value"] == "shipped"
    here: dict[str, object] = {}
    exec(_harness._code({}, "value = 'source'", "<solution>", "exec"), here)
    assert here["value"] == "source"


def test_zygotes_take_this_interpreters_bytecode(executor: LocalExecutor) -> None:
    executor.run([Job("def f():\n    return 1\n", [Call((), 1)], entry_point="f")])
    assert [z.bytecode for z in executor._zygotes if z is not None] == [bytecode_magic()] * executor.workers


def test_shipped_and_child_compiled_programs_judge_alike(executor: LocalExecutor) -> None:
    """The same verdicts whether a source was shipped as bytecode (compiles here) or not
    (a source over the size limit for shipping is compiled in the child)."""
    pad = "#" + "x" * 1000 + "\n"
    bulk = pad * 300  # over the shipping limit: compiled in the child
    body = "def f(a):\n    assert a != 3, 'three'\n    return a * 2\n"
    tests = [Call((1,), 2), Call((3,), None), Call((2,), 5)]
    small = Job(body, tests, entry_point="f", stop_on_failure=False)
    large = Job(bulk + body, tests, entry_point="f", stop_on_failure=False)
    asserts = Job(body, [Assert("assert f(1) == 2"), Assert("assert f(2) == 5")], stop_on_failure=False)
    a, b, c = executor.run([small, large, asserts])
    assert [(t.status, t.reason) for t in a.tests] == [(t.status, t.reason) for t in b.tests]
    assert [t.status for t in a.tests] == ["passed", "error", "failed"]
    assert a.tests[1].reason == "raised AssertionError: three"
    assert [t.status for t in c.tests] == ["passed", "failed"]


def test_bytecode_off_compiles_in_the_child_with_the_same_verdicts(executor: LocalExecutor) -> None:
    """``LocalExecutor(bytecode=False)`` (the escape hatch) and the default judge alike on
    every kind of job: calls, asserts with setup, stdin/stdout, a syntax error."""
    jobs = [
        Job("def f(a):\n    return a * 2\n", [Call((2,), 4), Call((3,), 7)], entry_point="f", stop_on_failure=False),
        Job(
            "def f(a):\n    return a + 1\n",
            [Assert("check(f)"), Assert("assert f(1) == 3")],
            setup="def check(c):\n    assert c(1) == 2\n",
            stop_on_failure=False,
        ),
        Job("print(int(input()) + 1)\n", [Stdio("1\n", "2\n"), Stdio("5\n", "7\n")], stop_on_failure=False),
        Job("def f(:\n    pass\n", [Call((), None)], entry_point="f"),
    ]
    with LocalExecutor(workers=1, bytecode=False) as plain:
        alone = plain.run(jobs)
    shipped = executor.run(jobs)
    assert [(r.status, [(t.status, t.reason) for t in r.tests]) for r in alone] == [
        (r.status, [(t.status, t.reason) for t in r.tests]) for r in shipped
    ]
    assert [r.status for r in shipped] == ["failed", "failed", "failed", "error"]
    assert "SyntaxError" in shipped[3].reason
