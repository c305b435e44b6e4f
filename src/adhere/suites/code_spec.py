"""Tests written as JSON, for ``adhere exec`` and anything else that labels code by hand.

Accepted shapes (a JSON object; a bare list is read as its ``tests``)::

    {"entry_point": "add",                      # the function call tests use
     "setup": "import math",                    # optional, run after the program
     "limits": {"wall_seconds": 3},             # optional, any field of Limits
     "tests": [
        {"call": [1, 2], "expected": 3},                    # + "kwargs", "atol", "seconds"
        {"assert": "assert add(1, 2) == 3"},                # split at the sandbox boundary when possible
        {"stdin": "3\\n", "stdout": "6\\n", "compare": "whitespace"}
     ]}

and the common dataset labels: ``{"inputs": [...], "outputs": [...], "fn_name": "f"}``
(calls when ``fn_name`` is given, else standard input/output pairs, as in APPS and
verl's ``test_cases``) and ``{"asserts": ["assert f(1) == 2", ...]}``.

Errors name the path of the bad field (``tests[2].stdout``) as :class:`SpecError`.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from ..errors import SpecError
from ..sandbox import Assert, Call, Job, Limits, Stdio, Test
from .code_asserts import defined_names, imported_names, parse_quietly, rewrite_assert

__all__ = ["job_from_spec"]

_LIMIT_FIELDS = {
    "wall_seconds", "cpu_seconds", "memory_bytes", "output_bytes", "processes", "file_bytes", "test_seconds",
}  # fmt: skip


def _close(atol: float) -> Any:
    def compare(got: Any, expected: Any) -> bool:
        if isinstance(got, (int, float)) and isinstance(expected, (int, float)) and not isinstance(got, bool):
            return math.isclose(got, expected, rel_tol=0.0, abs_tol=atol)
        return bool(got == expected)

    return compare


def _number(value: Any, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise SpecError(f"expected a positive number, got {type(value).__name__} {value!r}", path)
    return float(value)


def _one(test: Any, i: int, allowed: set[str]) -> Test:
    path = f"tests[{i}]"
    if not isinstance(test, Mapping):
        raise SpecError(f"expected an object, got {type(test).__name__}", path)
    seconds = _number(test.get("seconds"), f"{path}.seconds")
    label = str(test.get("label", i))
    if "call" in test:
        args = test["call"]
        if not isinstance(args, list):
            raise SpecError(f"expected the arguments as a list, got {type(args).__name__}", f"{path}.call")
        kwargs = test.get("kwargs")
        if kwargs is not None and not isinstance(kwargs, Mapping):
            raise SpecError(f"expected an object, got {type(kwargs).__name__}", f"{path}.kwargs")
        if "expected" not in test:
            raise SpecError("a call test needs an 'expected' value", path)
        atol = _number(test.get("atol"), f"{path}.atol")
        compare = _close(atol) if atol else None
        return Call(tuple(args), test["expected"], kwargs=kwargs, compare=compare, seconds=seconds, label=label)
    if "assert" in test:
        source = test["assert"]
        if not isinstance(source, str):
            raise SpecError(f"expected a string, got {type(source).__name__}", f"{path}.assert")
        try:
            tree = parse_quietly(source.strip())
        except SyntaxError as exc:
            raise SpecError(f"does not parse: {exc.msg}", f"{path}.assert") from None
        stmt = tree.body[0] if len(tree.body) == 1 else None
        check = rewrite_assert(stmt, allowed, label=label) if isinstance(stmt, ast.Assert) else None
        if check is not None:
            return check if seconds is None else dataclasses.replace(check, seconds=seconds)
        return Assert(source, seconds=seconds, label=label)
    if "stdin" in test or "stdout" in test:
        stdin, stdout = test.get("stdin", ""), test.get("stdout")
        if not isinstance(stdin, str):
            raise SpecError(f"expected a string, got {type(stdin).__name__}", f"{path}.stdin")
        if stdout is not None and not isinstance(stdout, str):
            raise SpecError(f"expected a string, got {type(stdout).__name__}", f"{path}.stdout")
        compare = test.get("compare", "exact")
        if compare not in ("exact", "whitespace", "lines"):
            raise SpecError(f"expected 'exact', 'whitespace' or 'lines', got {compare!r}", f"{path}.compare")
        return Stdio(stdin, stdout, compare=compare, seconds=seconds, label=label)
    raise SpecError("expected one of 'call', 'assert', or 'stdin'/'stdout'", path)


def _from_label(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``inputs/outputs/fn_name`` and ``asserts`` labels as explicit tests."""
    if "asserts" in spec:
        asserts = spec["asserts"]
        if not isinstance(asserts, list):
            raise SpecError(f"expected a list of strings, got {type(asserts).__name__}", "asserts")
        return [{"assert": a} for a in asserts]
    inputs, outputs = spec.get("inputs"), spec.get("outputs")
    if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
        raise SpecError("'inputs' and 'outputs' must be lists of the same length", "inputs")
    if spec.get("fn_name"):
        return [
            {"call": inp if isinstance(inp, list) else [inp], "expected": out}
            for inp, out in zip(inputs, outputs, strict=True)
        ]
    return [
        {"stdin": str(inp), "stdout": str(out), "compare": spec.get("compare", "whitespace")}
        for inp, out in zip(inputs, outputs, strict=True)
    ]


def job_from_spec(program: str, spec: Any) -> Job:
    """A :class:`Job` for ``program`` from a tests document (see the module docstring).

    Raises:
        SpecError: the document is malformed; the message names the field.
    """
    if isinstance(spec, list):
        spec = {"tests": spec}
    if not isinstance(spec, Mapping):
        raise SpecError(f"expected a JSON object or a list of tests, got {type(spec).__name__}")
    tests_raw = spec["tests"] if "tests" in spec else _from_label(spec)
    if not isinstance(tests_raw, list) or not tests_raw:
        raise SpecError("expected a non-empty list of tests", "tests")
    entry = spec.get("entry_point", spec.get("fn_name"))
    if entry is not None and not isinstance(entry, str):
        raise SpecError(f"expected a function name, got {type(entry).__name__}", "entry_point")
    setup = spec.get("setup", "")
    if not isinstance(setup, str):
        raise SpecError(f"expected code as a string, got {type(setup).__name__}", "setup")
    allowed = defined_names(program) | imported_names(program) | imported_names(setup) | {"candidate"}
    tests = [_one(t, i, allowed) for i, t in enumerate(tests_raw)]
    raw_limits = spec.get("limits") or {}
    if not isinstance(raw_limits, Mapping):
        raise SpecError(f"expected an object, got {type(raw_limits).__name__}", "limits")
    unknown = set(raw_limits) - _LIMIT_FIELDS
    if unknown:
        raise SpecError(f"unknown field(s) {sorted(unknown)}; known: {sorted(_LIMIT_FIELDS)}", "limits")
    limits = Limits(**raw_limits)
    if any(isinstance(t, Call) for t in tests) and not entry:
        raise SpecError("call tests need an 'entry_point' (or 'fn_name')", "entry_point")
    return Job(program, tests, entry_point=entry, limits=limits, setup=setup, stop_on_failure=False)
