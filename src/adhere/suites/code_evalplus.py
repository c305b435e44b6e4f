"""HumanEval+ and MBPP+ (EvalPlus): inputs, reference outputs, and how outputs are compared.

**Inputs.** The release files store each test's arguments as JSON, which has no tuples,
sets or complex numbers. For MBPP+ the reference run converts some arguments back
before calling; :data:`MBPP_PLUS_INPUT_TYPES` says where, per task, in our own notation
(``"0:tuple"`` the first argument becomes a tuple, ``"0.*:tuple"`` each element of it,
``"0.v:tuple"`` each value of a dict, ``"0:deep-tuple"`` every list inside it,
``"0:complex"``/``"0:float"`` a number from its text). The table was derived from the
dataset's own ``OriginFmt`` file, where the inputs are Python literals with their real
types, and a test checks it against that file for every task.

**Reference outputs** are computed by running the canonical solution on every input in
the sandbox, once, and cached (``ADHERE_CACHE_DIR`` or the user cache directory, keyed
by the dataset file's MD5, the cache format and the Python version). They stay in this
process; the per-input time of the reference sets each test's time limit, as EvalPlus
does: ``max(1 s, 4 x reference time)``.

**Comparison** follows EvalPlus 0.3.1 (``untrusted_check``), on plain data:

* equal (``==``) passes;
* otherwise, with a tolerance ``atol`` (the task's, or 1e-6 once a test of the set
  expects floats: the reference keeps that tolerance for the rest of the set), the
  output must have the expected's exact type and length and be ``numpy.allclose``
  (rtol 1e-7);
* special oracles, re-implemented from their definitions: HumanEval/32 ``find_zero``
  (the polynomial at the returned root within ``atol``; *counted as a pass*, where
  EvalPlus 0.3.1 skips recording it and so fails every sample: its known bug);
  MBPP+ ``are_equivalent`` (anything), ``sum_div`` (or 0), ``surface_Area`` and
  ``digit_distance_nums`` (an alternative reading of the task), order-free results for
  eight tasks, and "returns something" for three regex tasks.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import SandboxError
from ..sandbox import Call, Job, Limits, LocalExecutor
from ..sandbox._values import Digest, decode, to_json

__all__ = [
    "MBPP_PLUS_INPUT_TYPES",
    "NOT_NONE_TASKS",
    "PlusTask",
    "Reference",
    "comparators",
    "load_references",
    "restore_mbpp_inputs",
    "time_limit",
]

CACHE_FORMAT = 4  # 4: digests read numbers as floats (sandbox._values._stext)
MIN_TIME_LIMIT = 1.0
TIME_LIMIT_FACTOR = 4.0
SET_TIMEOUT_CAP = 60.0

#: Where MBPP+ arguments are not what JSON gives (see the module docstring).
MBPP_PLUS_INPUT_TYPES: dict[int, tuple[str, ...]] = {
    2: ("0:tuple", "1:tuple"),
    63: ("0.*:tuple",),
    64: ("0.*:tuple",),
    70: ("0.*:tuple",),
    75: ("0.*:tuple",),
    94: ("0.*:tuple",),
    106: ("1:tuple",),
    116: ("0:tuple",),
    120: ("0.*:tuple",),
    124: ("0:float", "1:complex"),
    132: ("0:tuple",),
    222: ("0:tuple",),
    237: ("0.*:tuple",),
    250: ("0:tuple",),
    252: ("0:complex",),
    259: ("0.*:tuple", "0:tuple", "1.*:tuple", "1:tuple"),
    261: ("0:tuple", "1:tuple"),
    272: ("0.*:tuple",),
    273: ("0:tuple", "1:tuple"),
    278: ("0.*:tuple", "0:tuple"),
    299: ("0.*:tuple",),
    394: ("0:tuple",),
    405: ("0:tuple",),
    409: ("0.*:tuple",),
    413: ("0.*:tuple",),
    421: ("0:tuple",),
    424: ("0:tuple",),
    429: ("0:tuple", "1:tuple"),
    445: ("0.*:tuple", "0:tuple", "1.*:tuple", "1:tuple"),
    446: ("0:tuple",),
    470: ("0:tuple",),
    473: ("0.*:tuple", "1.*:tuple"),
    560: ("0:tuple", "1:tuple"),
    579: ("0:tuple", "1:tuple"),
    580: ("0:deep-tuple",),
    596: ("0:tuple",),
    614: ("0.*:tuple",),
    615: ("0:deep-tuple",),
    616: ("0:tuple", "1:tuple"),
    630: ("0:tuple",),
    720: ("0:tuple",),
    722: ("0.v:tuple",),
    726: ("0:tuple",),
    740: ("0:tuple",),
    744: ("0:tuple",),
    750: ("1:tuple",),
    753: ("0.*:tuple",),
    763: ("0:tuple",),
    780: ("0.*:tuple",),
    791: ("0:deep-tuple",),
    808: ("0:tuple",),
    809: ("0:tuple", "1:tuple"),
}

# MBPP+ tasks whose reference compares results as sets, or only checks "not None".
_SET_EQUAL = frozenset(
    {"similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly", "larg_nnum",
     "intersection_array", "find_dissimilar", "Diff"}
)  # fmt: skip
NOT_NONE_TASKS = frozenset({"check_str", "text_match_three", "text_starta_endb"})
# MBPP+ oracles that read the test's input.
_INPUT_ORACLES = frozenset({"surface_Area", "digit_distance_nums"})


def _deep_tuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_deep_tuple(v) for v in value)
    return value


def _convert(value: Any, kind: str) -> Any:
    if kind == "tuple":
        return tuple(value) if isinstance(value, list) else value
    if kind == "deep-tuple":
        return _deep_tuple(value)
    if kind == "complex":
        return complex(value)
    if kind == "float":
        return float(value)
    raise ValueError(f"unknown conversion {kind!r}")


def _apply(value: Any, steps: Sequence[str], kind: str) -> Any:
    if not steps:
        return _convert(value, kind)
    step, rest = steps[0], steps[1:]
    if step == "*" and isinstance(value, list):
        return [_apply(v, rest, kind) for v in value]
    if step == "v" and isinstance(value, dict):
        return {k: _apply(v, rest, kind) for k, v in value.items()}
    return value


def restore_mbpp_inputs(task_number: int, inputs: Sequence[Any]) -> list[list[Any]]:
    """MBPP+ arguments with the types the reference calls them with."""
    rules = MBPP_PLUS_INPUT_TYPES.get(task_number, ())
    out: list[list[Any]] = []
    for raw in inputs:
        args = list(raw)
        # Deeper paths first, so "0.*:tuple" sees lists before "0:tuple" turns arg 0 into a tuple.
        for rule in sorted(rules, key=lambda r: -r.count(".")):
            path, _, kind = rule.partition(":")
            first, *steps = path.split(".")
            index = int(first)
            if index < len(args):
                args[index] = _apply(args[index], steps, kind)
        out.append(args)
    return out


# --------------------------------------------------------------------------------------- #
# comparison
# --------------------------------------------------------------------------------------- #


def _is_floats(x: Any) -> bool:
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, float) for i in x)
    return False


def _poly(xs: Sequence[Any], x: float) -> float:
    """The polynomial with coefficients ``xs`` (lowest degree first) at ``x``."""
    return float(sum(c * math.pow(x, i) for i, c in enumerate(xs)))


def _surface_area(base_edge: float, height: float) -> int:
    """Square pyramid, reading "height" as the perpendicular height (Mbpp/581's second reading)."""
    slant = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 4 * (base_edge * slant) / 2)  # the base and four triangles


def _digit_distance(a: int, b: int) -> int:
    """Sum of per-digit differences after left-padding the shorter number with zeros (Mbpp/558)."""
    sa, sb = str(a), str(b)
    width = max(len(sa), len(sb))
    return sum(abs(int(x) - int(y)) for x, y in zip(sa.zfill(width), sb.zfill(width), strict=True))


def _allclose(out: Any, exp: Any, atol: float) -> bool:
    import numpy as np

    if type(out) is not type(exp):
        return False
    if isinstance(exp, (list, tuple)) and len(out) != len(exp):
        return False
    return bool(np.allclose(out, exp, rtol=1e-07, atol=atol))


def comparators(
    dataset: str, entry_point: str, atol: float, inputs: Sequence[Sequence[Any]], expected: Sequence[Any]
) -> list[Callable[[Any, Any], bool | str]]:
    """One comparator per test of a set, reproducing the reference's rules (module docstring)."""
    out: list[Callable[[Any, Any], bool | str]] = []
    current = float(atol or 0)
    # Most comparators differ only by their tolerances: one closure per (before, after) pair.
    by_input = dataset == "mbpp" and entry_point in _INPUT_ORACLES
    made: dict[tuple[float, float], Callable[[Any, Any], bool | str]] = {}
    for inp, exp in zip(inputs, expected, strict=True):
        before = current
        if dataset == "humaneval" and entry_point == "find_zero":
            out.append(_find_zero(inp, before))
            continue  # the reference leaves the tolerance alone on this path
        after = 1e-6 if before == 0 and _is_floats(exp) else before
        current = after
        if by_input:
            out.append(_general(dataset, entry_point, inp, before, after))
            continue
        compare = made.get((before, after))
        if compare is None:
            compare = made[before, after] = _general(dataset, entry_point, (), before, after)
        out.append(compare)
    return out


def _find_zero(inp: Sequence[Any], atol: float) -> Callable[[Any, Any], bool | str]:
    def compare(got: Any, _exp: Any) -> bool | str:
        try:
            value = abs(_poly(inp[0], got))
        except Exception as exc:
            return f"returned {got!r:.60}, not a root ({type(exc).__name__})"
        return (
            True if value <= atol else f"returned {got!r:.60}; the polynomial there is {value:.3g}, not within {atol:g}"
        )

    return compare


def _within(got: Any, exp: Any, atol: float) -> bool:
    """The reference's tolerance path (never for digests: their values are not here)."""
    if atol == 0 or isinstance(got, Digest) or isinstance(exp, Digest):
        return False
    return _allclose(got, exp, atol)


def _general(dataset: str, entry_point: str, inp: Sequence[Any], before: float, after: float) -> Any:
    if dataset != "mbpp":  # HumanEval+: equality, then the tolerance path

        def compare_plain(got: Any, exp: Any) -> bool | str:
            try:
                return bool(got == exp) or _within(got, exp, after)
            except Exception:  # what the reference's own comparison would have raised: a failure
                return False

        return compare_plain

    def compare(got: Any, exp: Any) -> bool | str:
        try:
            exact = bool(got == exp)
            if entry_point == "are_equivalent":
                exact = True
            elif entry_point == "sum_div":
                exact = exact or got == 0
            elif entry_point == "surface_Area":
                exact = exact or abs(got - _surface_area(*inp)) <= before
            elif entry_point == "digit_distance_nums":
                exact = exact or got == _digit_distance(*inp)
            elif entry_point in _SET_EQUAL:
                exact = set(got) == set(exp)
            elif entry_point in NOT_NONE_TASKS:
                exact = got == exp if isinstance(got, bool) else exp == (got is not None)
            return exact or _within(got, exp, after)
        except Exception:  # what the reference's own comparison would have raised: a failure
            return False

    return compare


def time_limit(reference_seconds: float) -> float:
    """A test's time limit from the reference's time on the same input."""
    return max(MIN_TIME_LIMIT, TIME_LIMIT_FACTOR * reference_seconds)


# --------------------------------------------------------------------------------------- #
# reference outputs
# --------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class PlusTask:
    """What the reference run needs from one HumanEval+/MBPP+ task."""

    task_id: str
    program: str  # prompt + canonical solution
    entry_point: str
    base_inputs: tuple[tuple[Any, ...], ...]
    plus_inputs: tuple[tuple[Any, ...], ...]
    output_not_none: bool = False


@dataclass(frozen=True)
class Reference:
    """Reference outputs of one set: value (plain data, a Digest for large ones) and seconds."""

    values: tuple[Any, ...]
    seconds: tuple[float, ...]
    errors: tuple[str | None, ...]


def cache_dir() -> Path:
    env = os.environ.get("ADHERE_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "adhere"


def _cache_path(kind: str, dataset_md5: str) -> Path:
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    return cache_dir() / "references" / f"{kind}-{dataset_md5}-f{CACHE_FORMAT}-py{py}.json.gz"


def file_md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _read_cache(path: Path) -> dict[str, Any]:
    try:
        raw = orjson.loads(gzip.decompress(path.read_bytes()))
    except (OSError, EOFError, orjson.JSONDecodeError, gzip.BadGzipFile):
        return {}
    return raw if isinstance(raw, dict) and raw.get("format") == CACHE_FORMAT else {}


def _write_cache(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(gzip.compress(orjson.dumps(data), compresslevel=5))
    os.replace(tmp, path)


def _reference_job(task: PlusTask, inputs: Sequence[Sequence[Any]]) -> Job:
    tests = [Call(tuple(args)) for args in inputs]
    wall = 300.0 + 2.0 * len(tests)
    return Job(
        task.program,
        tests,
        entry_point=task.entry_point,
        limits=Limits(wall_seconds=wall, cpu_seconds=wall),
        stop_on_failure=False,
        label=f"reference {task.task_id}",
    )


def load_references(
    kind: str, dataset_md5: str, tasks: Sequence[PlusTask], executor: LocalExecutor
) -> dict[str, dict[str, Reference]]:
    """Reference outputs of ``tasks`` (from the cache, computing and caching what is missing).

    Raises:
        SandboxError: the reference solution could not be run (our machinery failed).
    """
    path = _cache_path(kind, dataset_md5)
    cache = _read_cache(path)
    stored: dict[str, Any] = dict(cache.get("tasks") or {})
    missing = [t for t in tasks if t.task_id not in stored]
    if missing:
        jobs: list[Job] = []
        for t in missing:
            jobs.append(_reference_job(t, t.base_inputs))
            jobs.append(_reference_job(t, t.plus_inputs))
        results = executor.run(jobs)
        for i, t in enumerate(missing):
            entry: dict[str, Any] = {}
            for name, result in (("base", results[2 * i]), ("plus", results[2 * i + 1])):
                if result.status == "unscorable":
                    raise SandboxError(f"could not compute the reference outputs of {t.task_id}: {result.reason}")
                sets = []
                for r in result.tests:
                    if r.status == "passed":
                        value = (r.value is not None) if t.output_not_none else r.value
                        sets.append([to_json(value), r.duration or 0.0, None])
                    else:
                        sets.append([None, r.duration or 0.0, f"{r.status}: {r.reason}"])
                entry[name] = sets
            stored[t.task_id] = entry
        _write_cache(
            path,
            {"format": CACHE_FORMAT, "dataset": dataset_md5, "python": sys.version.split()[0], "tasks": stored},
        )
    out: dict[str, dict[str, Reference]] = {}
    for t in tasks:
        entry = stored[t.task_id]
        out[t.task_id] = {
            name: Reference(
                tuple(decode(v) if err is None else None for v, _, err in entry[name]),
                tuple(float(s) for _, s, _ in entry[name]),
                tuple(err for _, _, err in entry[name]),
            )
            for name in ("base", "plus")
        }
    return out


def reference_summary(refs: Mapping[str, Mapping[str, Reference]]) -> dict[str, int]:
    """Counts for reports: inputs, and inputs on which the reference itself failed."""
    inputs = sum(len(r.values) for sets in refs.values() for r in sets.values())
    failed = sum(e is not None for sets in refs.values() for r in sets.values() for e in r.errors)
    return {"inputs": inputs, "reference_failures": failed}
