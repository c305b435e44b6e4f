"""EvalPlus suites: input types, the comparison rules, and the reference-output cache."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

from adhere.sandbox import Digest
from adhere.suites.code_evalplus import comparators, restore_mbpp_inputs, time_limit

DATA = Path(__file__).parents[2] / ".." / "shared" / "data" / "evalplus"


def _typed_inputs(test_source: str) -> list[Any]:
    """The ``inputs = [...]`` literal of an OriginFmt test script, with its real types."""
    start = test_source.index("\ninputs = ") + len("\ninputs = ")
    line = test_source[start : test_source.index("\n", start)]
    # A literal of the dataset (trusted test data), with the names inf, nan and set.
    return list(eval(line, {"__builtins__": {}, "inf": math.inf, "nan": math.nan, "set": set}))


def _shape(value: Any) -> Any:
    """Containers and their kinds, numbers as numbers (JSON cannot tell 1 from 1.0 apart here)."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_shape(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, _shape(v)) for k, v in value.items()))
    if isinstance(value, set):
        return ("set", tuple(sorted(map(repr, value))))
    if isinstance(value, complex):
        return ("complex", value.real, value.imag)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ("number", float(value))
    return value


def test_mbpp_plus_input_types_match_the_dataset_literals() -> None:
    """For every MBPP+ task, each restored input appears, types and all, among the Python
    literals of the dataset's own OriginFmt file (which keeps tuples, sets, complex)."""
    with gzip.open(DATA / "MbppPlus-v0.2.0.jsonl.gz", "rt") as f:
        plus = {r["task_id"]: r for r in map(json.loads, f)}
    with gzip.open(DATA / "MbppPlus-OriginFmt-v0.2.0.jsonl.gz", "rt") as f:
        origin = {f"Mbpp/{r['task_id']}": r for r in map(json.loads, f)}
    checked = 0
    for task_id, row in plus.items():
        literal = {_shape(list(inp)) for inp in _typed_inputs(origin[task_id]["test"])}
        inputs = row["base_input"] + (row["plus_input"] if isinstance(row["plus_input"], list) else [])
        restored = restore_mbpp_inputs(int(task_id.split("/")[1]), inputs)
        missing = [inp for inp in restored if _shape(list(inp)) not in literal]
        if task_id in ("Mbpp/124", "Mbpp/252"):  # the literal file writes these numbers differently
            assert isinstance(restored[0][-1], complex)
            continue
        assert not missing, f"{task_id}: {missing[0]!r:.200}"
        checked += len(restored)
    assert checked > 40_000


def test_sticky_tolerance_and_exact_types() -> None:
    # atol 0, but once a test expects floats, the rest of the set compares with 1e-6
    comps = comparators("humaneval", "f", 0, [[1], [2], [3]], [1, 0.5, 7])
    assert comps[0](1, 1) is True and comps[0](1.0000001, 1) is False
    assert comps[1](0.5000001, 0.5) is True
    assert comps[2](7, 7) is True and comps[2](7.0000001, 7) is False  # allclose needs type(out) == type(exp)
    assert comps[1]([0.5], 0.5) is False


def test_special_oracles() -> None:
    [zero] = comparators("humaneval", "find_zero", 1e-6, [[[-6, 11, -6, 1]]], [1.0])
    assert zero(2.0, 1.0) is True  # any root passes (the reference's own answer is 1.0)
    assert zero(2.5, 1.0) is not True and zero(None, 1.0) is not True
    [as_set] = comparators("mbpp", "similar_elements", 0, [[(3, 4, 5), (5, 4)]], [(4, 5)])
    assert as_set((5, 4), (4, 5)) is True and as_set((5,), (4, 5)) is False
    [not_none] = comparators("mbpp", "check_str", 0, [["annie"]], [True])
    from adhere.sandbox import Opaque

    assert not_none(Opaque("re.Match", True), True) is True and not_none(None, True) is False
    assert not_none(True, True) is True and not_none(False, True) is False
    [equiv] = comparators("mbpp", "are_equivalent", 0, [[36, 57]], [False])
    assert equiv(True, False) is True
    [area] = comparators("mbpp", "surface_Area", 0.0001, [[3, 4]], [33])
    assert area(33, 33) is True and area(35, 33) is True and area(40, 33) is False  # both readings of "height"


def test_large_values_compare_by_digest_only() -> None:
    [comp] = comparators("humaneval", "f", 1e-6, [[1]], [Digest("aa", 40_000)])
    assert comp(Digest("aa", 40_000), Digest("aa", 40_000)) is True
    assert comp(Digest("bb", 40_000), Digest("aa", 40_000)) is False
    assert comp([1.0] * 10, Digest("aa", 40_000)) is False


def test_time_limits() -> None:
    assert time_limit(0.001) == 1.0 and time_limit(2.0) == 8.0
