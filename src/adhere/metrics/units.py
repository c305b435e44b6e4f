"""From result rows to per-unit numerators and denominators: the shape every statistic reads.

A *unit* is what the bootstrap resamples and what a paired comparison pairs: a prompt
(``key``) or a code task (``task_id``). Rows of the same unit (several samples, or
several rows from a resumed run) are summed into one numerator and one denominator, so
a metric's value is always ``sum(num) / sum(den)`` and its point estimate equals the
suite's own summary.

Layouts are recognised from the rows (they are the suites' own result rows):

* ``instructions`` (IFEval, IFBench): ``instructions: [{"id", "strict", "loose"}]``.
  A row with any ``None`` verdict is unscorable and left out, as the suite does.
* ``constraints`` (MulDimIF): ``constraints: [{"outcome", "category", ...}]``.
* ``code`` (HumanEval, MBPP, EvalPlus): ``task_id``, ``sample``, ``passed`` (``None``:
  unscorable), optionally ``base_passed`` and ``efficiency``.
* ``verdict`` (every other suite): the root verdict's outcome.

Rows of the runner's own making for a failed generation (``"error"`` set, root verdict
unscorable) are unscorable in every layout: left out of every metric and counted.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .effk import eff_at_k
from .passk import DEFAULT_KS, pass_at_k

__all__ = [
    "Layout",
    "UnitMetric",
    "detect_layout",
    "headline_metrics",
    "primary_outcomes",
    "row_failures",
    "unit_of",
]

Layout = Literal["instructions", "constraints", "code", "verdict"]
_UNIT_FIELDS = ("key", "task_id", "id")


def unit_of(row: Mapping[str, Any]) -> str:
    """The unit (prompt or task) a row belongs to, as text."""
    for name in _UNIT_FIELDS:
        value = row.get(name)
        if value is not None:
            return str(value)
    prompt = row.get("prompt")
    return str(prompt) if prompt is not None else "?"


def sample_of(row: Mapping[str, Any]) -> int:
    sample = row.get("sample", 0)
    return sample if isinstance(sample, int) and not isinstance(sample, bool) else 0


def detect_layout(rows: Iterable[Mapping[str, Any]]) -> Layout:
    for row in rows:
        if isinstance(row.get("instructions"), list):
            return "instructions"
        if isinstance(row.get("constraints"), list):
            return "constraints"
        if "task_id" in row and "passed" in row:
            return "code"
    return "verdict"


def _root_outcome(row: Mapping[str, Any]) -> str | None:
    verdict = row.get("verdict")
    return str(verdict.get("outcome")) if isinstance(verdict, Mapping) else None


def _row_error(row: Mapping[str, Any]) -> bool:
    return bool(row.get("error")) and _root_outcome(row) in (None, "unscorable")


@dataclass(frozen=True)
class UnitMetric:
    """One metric as per-unit sums: value = ``num.sum() / den.sum()``.

    ``units`` lists the units that count (``den > 0``); ``excluded`` counts the rows
    left out as unscorable; ``higher_is_better`` is always true for the built-ins.
    """

    name: str
    description: str
    units: tuple[str, ...]
    num: NDArray[np.float64]
    den: NDArray[np.float64]
    excluded: int = 0

    @property
    def value(self) -> float:
        total = float(self.den.sum())
        return float(self.num.sum()) / total if total > 0 else math.nan

    def aligned(self, units: Sequence[str]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Numerators and denominators in the order of ``units`` (0/0 where absent)."""
        index = {u: i for i, u in enumerate(self.units)}
        pos = np.array([index.get(u, -1) for u in units], dtype=np.int64)
        present = pos >= 0
        num = np.where(present, self.num[np.where(present, pos, 0)] if self.num.size else 0.0, 0.0)
        den = np.where(present, self.den[np.where(present, pos, 0)] if self.den.size else 0.0, 0.0)
        return num, den


class _Sums:
    """Accumulates per-unit numerators and denominators for one metric."""

    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.description = description
        self.num: dict[str, float] = defaultdict(float)
        self.den: dict[str, float] = defaultdict(float)
        self.excluded = 0

    def add(self, unit: str, num: float, den: float) -> None:
        self.num[unit] += num
        self.den[unit] += den

    def metric(self) -> UnitMetric:
        units = tuple(u for u in self.den if self.den[u] > 0)
        return UnitMetric(
            self.name,
            self.description,
            units,
            np.array([self.num[u] for u in units], dtype=np.float64),
            np.array([self.den[u] for u in units], dtype=np.float64),
            self.excluded,
        )


# -- per-layout headline metrics ----------------------------------------------------------------


def _instruction_metrics(rows: Sequence[Mapping[str, Any]]) -> list[UnitMetric]:
    sums = {
        "prompt_strict": _Sums("prompt_strict", "prompts whose every instruction is followed (strict)"),
        "inst_strict": _Sums("inst_strict", "instructions followed (strict)"),
        "prompt_loose": _Sums("prompt_loose", "prompts whose every instruction is followed (loose)"),
        "inst_loose": _Sums("inst_loose", "instructions followed (loose)"),
    }
    for row in rows:
        items = row.get("instructions") or []
        if _row_error(row) or any(i.get("strict") is None or i.get("loose") is None for i in items):
            for s in sums.values():
                s.excluded += 1
            continue
        unit = unit_of(row)
        for mode in ("strict", "loose"):
            flags = [bool(i[mode]) for i in items]
            sums[f"prompt_{mode}"].add(unit, float(all(flags)), 1.0)
            sums[f"inst_{mode}"].add(unit, float(sum(flags)), float(len(flags)))
    return [s.metric() for s in sums.values()]


def _constraint_metrics(rows: Sequence[Mapping[str, Any]]) -> list[UnitMetric]:
    overall = _Sums("overall", "prompts meeting every constraint")
    macro = _Sums("macro", "mean share of a prompt's constraints met")
    micro = _Sums("micro", "constraints met")
    for row in rows:
        outcomes = [str(c.get("outcome")) for c in row.get("constraints") or []]
        judged = [o for o in outcomes if o != "unscorable"]
        unit = unit_of(row)
        if _row_error(row):
            overall.excluded += 1
            macro.excluded += 1
            micro.excluded += 1
            continue
        ok = sum(o == "pass" for o in judged)
        micro.add(unit, float(ok), float(len(judged)))
        if any(o == "fail" for o in judged):
            overall.add(unit, 0.0, 1.0)
            macro.add(unit, ok / len(judged), 1.0)
        elif judged and len(judged) == len(outcomes):
            overall.add(unit, 1.0, 1.0)
            macro.add(unit, 1.0, 1.0)
        else:  # an unscorable constraint could still decide it
            overall.excluded += 1
            macro.excluded += 1
    return [overall.metric(), macro.metric(), micro.metric()]


def _per_task(rows: Sequence[Mapping[str, Any]], field: str) -> tuple[dict[str, list[float]], int]:
    by_task: dict[str, list[float]] = defaultdict(list)
    excluded = 0
    for row in rows:
        value = row.get(field)
        if value is None or _row_error(row) or isinstance(value, str):
            excluded += 1
            continue
        by_task[unit_of(row)].append(float(value))
    return by_task, excluded


def pass_at_k_metric(
    by_task: Mapping[str, Sequence[float]], k: int, name: str, excluded: int = 0, *, efficiency: bool = False
) -> UnitMetric:
    """pass@k (or eff@k) per task as a mean-of-units metric; tasks with fewer than k samples are left out."""
    units = tuple(t for t, v in by_task.items() if len(v) >= k)
    if efficiency:
        values = [eff_at_k(by_task[t], k) for t in units]
        description = f"expected best efficiency among {k} samples (ENAMEL eff@{k})"
    else:
        values = [pass_at_k(len(by_task[t]), int(sum(by_task[t])), k) for t in units]
        description = f"chance that at least one of {k} samples passes (unbiased pass@{k})"
    return UnitMetric(name, description, units, np.array(values, dtype=np.float64), np.ones(len(units)), excluded)


def _code_metrics(rows: Sequence[Mapping[str, Any]]) -> list[UnitMetric]:
    out: list[UnitMetric] = []
    fields = [("passed", "pass@", False), ("base_passed", "base_pass@", False), ("efficiency", "eff@", True)]
    for field, prefix, efficiency in fields:
        if not any(field in r for r in rows):
            continue
        by_task, excluded = _per_task(rows, field)
        if not by_task:
            continue
        smallest = min(len(v) for v in by_task.values())
        for k in DEFAULT_KS:
            if k <= smallest:
                out.append(pass_at_k_metric(by_task, k, f"{prefix}{k}", excluded, efficiency=efficiency))
    return out


def _verdict_metrics(rows: Sequence[Mapping[str, Any]]) -> list[UnitMetric]:
    sums = _Sums("pass_rate", "responses whose verdict passes")
    for row in rows:
        outcome = _root_outcome(row)
        if outcome in ("pass", "fail"):
            sums.add(unit_of(row), float(outcome == "pass"), 1.0)
        else:
            sums.excluded += 1
    return [sums.metric()]


def _boolean_field_metrics(
    rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any], taken: set[str]
) -> list[UnitMetric]:
    """Summary numbers that are the share of rows with a true boolean field of the same name
    (the labels suite's ``strict``/``lenient``/``fidelity``)."""
    out = []
    for name, value in summary.items():
        if name in taken or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        present = [r.get(name) for r in rows if name in r]
        if not present or not all(isinstance(v, bool) or v is None for v in present):
            continue
        sums = _Sums(name, f"rows with {name} true")
        for row in rows:
            flag = row.get(name)
            if isinstance(flag, bool) and not _row_error(row):
                sums.add(unit_of(row), float(flag), 1.0)
            else:
                sums.excluded += 1
        out.append(sums.metric())
    return out


def headline_metrics(
    rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any] | None = None, layout: Layout | None = None
) -> list[UnitMetric]:
    """The headline metrics of a run, as per-unit sums (see the module docstring)."""
    layout = layout or detect_layout(rows)
    if layout == "instructions":
        metrics = _instruction_metrics(rows)
    elif layout == "constraints":
        metrics = _constraint_metrics(rows)
    elif layout == "code":
        metrics = _code_metrics(rows)
    else:
        metrics = _verdict_metrics(rows)
    if summary:
        metrics += _boolean_field_metrics(rows, summary, {m.name for m in metrics})
    return metrics


# -- the primary pass/fail of each row (flips, pass@k curves, failure lists) --------------------------


def row_passed(row: Mapping[str, Any], layout: Layout) -> bool | None:
    """Whether a row passes by its suite's main criterion; ``None`` when unscorable."""
    if _row_error(row):
        return None
    if layout == "instructions":
        items = row.get("instructions") or []
        if any(i.get("strict") is None for i in items):
            return None
        return all(bool(i["strict"]) for i in items)
    if layout == "constraints":
        outcomes = [str(c.get("outcome")) for c in row.get("constraints") or []]
        if "fail" in outcomes:
            return False
        return None if "unscorable" in outcomes or not outcomes else True
    if layout == "code":
        value = row.get("passed")
        return None if value is None else bool(value)
    outcome = _root_outcome(row)
    return None if outcome not in ("pass", "fail") else outcome == "pass"


def primary_outcomes(rows: Sequence[Mapping[str, Any]], layout: Layout | None = None) -> dict[str, list[bool]]:
    """Per unit, the pass flags of its scorable samples (in ``sample`` order)."""
    layout = layout or detect_layout(rows)
    out: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for row in rows:
        passed = row_passed(row, layout)
        if passed is not None:
            out[unit_of(row)].append((sample_of(row), passed))
    return {u: [p for _, p in sorted(v, key=lambda t: t[0])] for u, v in out.items()}


def row_failures(row: Mapping[str, Any], layout: Layout) -> list[tuple[str, str, str]]:
    """``(name, outcome, reason)`` for each failed or unscorable item of a row: the
    instructions, constraints or check verdicts a reader should look at."""
    out: list[tuple[str, str, str]] = []
    if row.get("error"):
        out.append(("model.generate", "unscorable", str(row["error"])))
    if layout == "instructions":
        for i in row.get("instructions") or []:
            if i.get("strict") is None:
                out.append((str(i.get("id")), "unscorable", str(i.get("reason") or "")))
            elif not i.get("strict"):
                mode = " (loose passes)" if i.get("loose") else ""
                out.append((str(i.get("id")) + mode, "fail", str(i.get("reason") or "")))
        return out
    if layout == "constraints":
        for c in row.get("constraints") or []:
            if c.get("outcome") in ("fail", "unscorable"):
                name = str(c.get("family") or c.get("category") or "constraint")
                out.append((name, str(c["outcome"]), str(c.get("reason") or c.get("sentence") or "")))
        return out
    if layout == "code":
        for t in row.get("tests") or []:
            if isinstance(t, Mapping) and t.get("status") not in ("passed", "not_run"):
                name = f"{t.get('set', 'test')}[{t.get('index')}]"
                out.append((name, str(t.get("status")), str(t.get("reason") or "")))
        if not out and row.get("passed") is not True and row.get("reason"):
            out.append((str(row.get("status") or "code"), "fail", str(row["reason"])))
        return out
    verdict = row.get("verdict")
    if isinstance(verdict, Mapping):
        for leaf in _leaves(verdict):
            if leaf.get("outcome") in ("fail", "unscorable"):
                out.append((_leaf_name(leaf), str(leaf["outcome"]), str(leaf.get("reason") or "")))
    return out


def _leaves(node: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    children = node.get("children") or []
    if not children:
        yield node
        return
    for child in children:
        if isinstance(child, Mapping):
            yield from _leaves(child)


def _leaf_name(leaf: Mapping[str, Any]) -> str:
    label = (leaf.get("evidence") or {}).get("label")
    check = str(leaf.get("check", "?"))
    return f"{check} ({label})" if isinstance(label, str) and label != check else check
