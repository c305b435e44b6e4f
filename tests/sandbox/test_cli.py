"""``adhere exec`` and ``adhere doctor`` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from adhere.errors import MissingExtraError, SpecError
from adhere.sandbox import Assert, Call, Check, Stdio
from adhere.suites.base import get_suite
from adhere.suites.code_spec import job_from_spec


def adhere(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "adhere.cli", *args], text=True, capture_output=True, timeout=120)


def test_exec_passes_and_fails(tmp_path: Path) -> None:
    program = tmp_path / "add.py"
    program.write_text("def add(a, b):\n    return a + b\n")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"entry_point": "add", "tests": [{"call": [1, 2], "expected": 3},
                                                                 {"assert": "assert add(2, 2) == 4"}]}))  # fmt: skip
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"call": [1, 2], "expected": 4}]))
    ok = adhere("exec", str(program), "--tests", str(good), "--json")
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["passed"] is True and [t["status"] for t in report["tests"]] == ["passed", "passed"]
    failed = adhere("exec", str(program), "--tests", str(bad), "--entry-point", "add")
    assert failed.returncode == 1 and "returned 3, expected 4" in failed.stdout


def test_exec_usage_errors(tmp_path: Path) -> None:
    program = tmp_path / "p.py"
    program.write_text("x = 1\n")
    broken = tmp_path / "t.json"
    broken.write_text('{"tests": [{"call": [1]}]}')
    result = adhere("exec", str(program), "--tests", str(broken))
    assert result.returncode == 2 and "tests[0]" in result.stderr and "expected" in result.stderr
    missing = adhere("exec", str(tmp_path / "nope.py"), "--tests", str(broken))
    assert missing.returncode == 2 and missing.stderr.startswith("error:")


def test_tests_spec_shapes() -> None:
    job = job_from_spec(
        "import math\ndef f(x):\n    return x * 2\n",
        {"fn_name": "f", "inputs": [[1], [2.5]], "outputs": [2, 5.0]},
    )
    assert [type(t) for t in job.tests] == [Call, Call] and job.entry_point == "f"
    stdio = job_from_spec("print(input())", {"inputs": ["a\n"], "outputs": ["a\n"]})
    assert isinstance(stdio.tests[0], Stdio) and stdio.tests[0].compare == "whitespace"
    asserts = job_from_spec("def f(x):\n    return x\n", {"asserts": ["assert f(1) == 1", "for i in []: pass"]})
    assert isinstance(asserts.tests[0], Check)
    with pytest.raises(SpecError) as info:
        job_from_spec("x", {"tests": [{"stdin": 3}]})
    assert info.value.path == "tests[0].stdin"
    with pytest.raises(SpecError, match="unknown field"):
        job_from_spec("x", {"tests": [{"assert": "assert True"}], "limits": {"seconds": 1}})
    assert isinstance(job_from_spec("x", [{"assert": "for i in []: pass"}]).tests[0], Assert)


def test_doctor_reports_and_tries(tmp_path: Path) -> None:
    result = adhere("doctor", "--json")
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert {"namespaces", "seccomp", "filesystem"} <= set(report["protections"])
    assert len(report["probes"]) == 8
    if result.returncode == 0:
        assert report["healthy"] and all(p["blocked"] for p in report["probes"])


def test_hub_default_needs_the_hf_extra() -> None:
    try:
        import datasets  # noqa: F401
    except ImportError:
        with pytest.raises(MissingExtraError, match=r"adhere\[hf\]"):
            get_suite("humaneval").load(None)
    else:  # pragma: no cover - only where the extra is installed
        pytest.skip("datasets is installed; the hub itself is not reachable from the tests")


def test_public_names() -> None:
    import adhere.sandbox as sandbox

    assert set(sandbox.__all__) == {
        "DEFAULT_PRELOAD", "NO_EXPECTATION", "STATUSES", "Assert", "Call", "Check", "Comparator", "Digest", "Job",
        "JobResult", "Limits", "LocalExecutor", "Opaque", "Protections", "Status", "Stdio", "Test", "TestResult",
        "default_executor", "CompileFailure", "compiled", "dedupe_default",
    }  # fmt: skip
    for name in sandbox.__all__:
        assert getattr(sandbox, name) is not None
