"""Per-check, per-category and per-group breakdowns, each with a bootstrap interval.

* **Per check**: IFEval/IFBench instruction ids (strict and loose), MulDimIF constraint
  families, or for any other suite the leaf checks of the verdict tree (a check that
  appears several times in one row counts once for it: it fails if any instance fails).
* **Per category**: the checks summed by family (``length_constraints``, ``format``, ...).
* **Per group**: the primary metric for each value of a categorical row field
  (``difficulty``, ``constraint_pattern``, ``category``, ...).

Intervals resample the run's units (prompts) with one set of counts shared by every
check, so they are consistent with the headline intervals and cost one matrix product.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    MIN_UNITS,
    Interval,
    percentile_interval,
    ratio_stats,
    resample_counts,
)
from .units import Layout, UnitMetric, detect_layout, headline_metrics, unit_of

__all__ = ["GROUP_FIELDS", "CheckStat", "GroupStat", "category_stats", "check_stats", "group_stats"]

GROUP_FIELDS = (
    "category",
    "constraint_pattern",
    "difficulty",
    "level",
    "pattern",
    "language",
    "source",
    "subset",
    "scheme",
    "paradigm",
)
_MAX_GROUPS = 50


@dataclass(frozen=True)
class CheckStat:
    """How often one check (or category of checks) passed, with its interval."""

    name: str
    category: str
    passed: int
    failed: int
    unscorable: int
    accuracy: Interval
    loose: Interval | None = None

    @property
    def judged(self) -> int:
        return self.passed + self.failed

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "category": self.category,
            "passed": self.passed,
            "failed": self.failed,
            "unscorable": self.unscorable,
            "accuracy": self.accuracy.to_dict(),
        }
        if self.loose is not None:
            out["loose"] = self.loose.to_dict()
        return out


@dataclass(frozen=True)
class GroupStat:
    """The primary metric on the rows that share one value of a field."""

    field: str
    value: str
    metric: str
    rows: int
    interval: Interval

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "value": self.value,
            "metric": self.metric,
            "rows": self.rows,
            "interval": self.interval.to_dict(),
        }


@dataclass
class _Tally:
    category: str
    passed: int = 0
    failed: int = 0
    unscorable: int = 0
    num: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    den: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    loose_num: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, unit: str, outcome: str, loose: bool | None = None) -> None:
        if outcome == "unscorable":
            self.unscorable += 1
            return
        ok = outcome == "pass"
        self.passed += ok
        self.failed += not ok
        self.num[unit] += ok
        self.den[unit] += 1
        if loose is not None:
            self.loose_num[unit] += loose


def _outcome(value: Any) -> str:
    if value is None:
        return "unscorable"
    return "pass" if value else "fail"


def _leaf_outcomes(node: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    children = node.get("children") or []
    if not children:
        yield str(node.get("check", "?")), str(node.get("outcome"))
        return
    for child in children:
        if isinstance(child, Mapping):
            yield from _leaf_outcomes(child)


def _tallies(rows: Sequence[Mapping[str, Any]], layout: Layout) -> tuple[dict[str, _Tally], bool]:
    tallies: dict[str, _Tally] = {}
    has_loose = False
    for row in rows:
        unit = unit_of(row)
        if layout == "instructions":
            has_loose = True
            for item in row.get("instructions") or []:
                name = str(item.get("id"))
                tally = tallies.setdefault(name, _Tally(name.split(":")[0]))
                strict = item.get("strict")
                loose = item.get("loose")
                if loose is None:
                    strict = None
                tally.add(unit, _outcome(strict), None if loose is None else bool(loose))
        elif layout == "constraints":
            for c in row.get("constraints") or []:
                name = str(c.get("family") or f"{c.get('category')}_{c.get('subcategory')}")
                tally = tallies.setdefault(name, _Tally(str(c.get("category") or name.split("_")[0])))
                tally.add(unit, str(c.get("outcome")))
        else:
            verdict = row.get("verdict")
            if not isinstance(verdict, Mapping):
                continue
            merged: dict[str, str] = {}
            for check, outcome in _leaf_outcomes(verdict):
                before = merged.get(check)
                if before == "fail" or outcome == "fail":
                    merged[check] = "fail"
                elif before == "unscorable" or outcome == "unscorable":
                    merged[check] = "unscorable"
                else:
                    merged[check] = "pass"
            for check, outcome in merged.items():
                tallies.setdefault(check, _Tally(check.split(".")[0])).add(unit, outcome)
    return tallies, has_loose


def _intervals(
    parts: Sequence[Mapping[str, float]],
    dens: Sequence[Mapping[str, float]],
    units: Sequence[str],
    *,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> list[Interval]:
    """One interval per (num, den) column, all from one shared resampling of ``units``."""
    if not parts:
        return []
    index = {u: i for i, u in enumerate(units)}
    num: NDArray[np.float64] = np.zeros((len(units), len(parts)))
    den: NDArray[np.float64] = np.zeros((len(units), len(parts)))
    for j, (n_map, d_map) in enumerate(zip(parts, dens, strict=True)):
        for unit, value in d_map.items():
            den[index[unit], j] = value
            num[index[unit], j] = n_map.get(unit, 0.0)
    counts = resample_counts(len(units), n_resamples, np.random.default_rng(seed))
    stats = ratio_stats(counts, num, den)  # (resamples, columns)
    totals = den.sum(axis=0)
    out = []
    judged_units = np.count_nonzero(den, axis=0)
    for j in range(len(parts)):
        estimate = float(num[:, j].sum() / totals[j]) if totals[j] > 0 else float("nan")
        if judged_units[j] < MIN_UNITS:  # too few prompts for an honest interval
            out.append(Interval(estimate, float("nan"), float("nan"), confidence))
        else:
            out.append(percentile_interval(stats[:, j], estimate, confidence))
    return out


def check_stats(
    rows: Sequence[Mapping[str, Any]],
    layout: Layout | None = None,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> list[CheckStat]:
    """Per-check pass rates with intervals, worst first."""
    layout = layout or detect_layout(rows)
    tallies, has_loose = _tallies(rows, layout)
    kw: dict[str, Any] = {"n_resamples": n_resamples, "confidence": confidence, "seed": seed}
    stats = _stats_of(tallies, has_loose, rows, lambda name, tally: tally.category, **kw)
    return sorted(stats, key=lambda s: (_sort_value(s.accuracy), s.name))


def category_stats(
    rows: Sequence[Mapping[str, Any]],
    layout: Layout | None = None,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> list[CheckStat]:
    """The checks summed by category (every instance of every check in it counts once)."""
    layout = layout or detect_layout(rows)
    tallies, has_loose = _tallies(rows, layout)
    merged: dict[str, _Tally] = {}
    for tally in tallies.values():
        into = merged.setdefault(tally.category, _Tally(tally.category))
        into.passed += tally.passed
        into.failed += tally.failed
        into.unscorable += tally.unscorable
        for unit, value in tally.num.items():
            into.num[unit] += value
        for unit, value in tally.den.items():
            into.den[unit] += value
        for unit, value in tally.loose_num.items():
            into.loose_num[unit] += value
    kw: dict[str, Any] = {"n_resamples": n_resamples, "confidence": confidence, "seed": seed}
    return _stats_of({n: merged[n] for n in sorted(merged)}, has_loose, rows, lambda name, tally: name, **kw)


def _stats_of(
    tallies: Mapping[str, _Tally],
    has_loose: bool,
    rows: Sequence[Mapping[str, Any]],
    category: Callable[[str, _Tally], str],
    **kw: Any,
) -> list[CheckStat]:
    """One :class:`CheckStat` per tally (in the mapping's order), strict and loose intervals resampled
    over the same prompts."""
    units = sorted({unit_of(r) for r in rows})
    names = list(tallies)
    dens = [tallies[n].den for n in names]
    strict = _intervals([tallies[n].num for n in names], dens, units, **kw)
    loose: list[Interval | None] = [None] * len(names)
    if has_loose:
        loose = list(_intervals([tallies[n].loose_num for n in names], dens, units, **kw))
    return [
        CheckStat(n, category(n, t), t.passed, t.failed, t.unscorable, s, lo)
        for n, s, lo in zip(names, strict, loose, strict=True)
        for t in (tallies[n],)
    ]


def _sort_value(interval: Interval) -> float:
    return 2.0 if interval.estimate != interval.estimate else interval.estimate


def _group_value(row: Mapping[str, Any], name: str) -> Any:
    if name in row:
        return row[name]
    meta = row.get("meta")
    return meta.get(name) if isinstance(meta, Mapping) else None


def group_fields(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The categorical fields worth a breakdown: known names with 2..50 distinct values."""
    found = []
    for name in GROUP_FIELDS:
        values = {_group_value(r, name) for r in rows}
        values.discard(None)
        if 2 <= len(values) <= _MAX_GROUPS and all(isinstance(v, (str, int)) for v in values):
            found.append(name)
    return found


def group_stats(
    rows: Sequence[Mapping[str, Any]],
    fields: Sequence[str] | None = None,
    layout: Layout | None = None,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> dict[str, list[GroupStat]]:
    """The primary (first headline) metric for each value of each field."""
    from .bootstrap import bootstrap_ratio

    layout = layout or detect_layout(rows)
    out: dict[str, list[GroupStat]] = {}
    for name in fields if fields is not None else group_fields(rows):
        buckets: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for row in rows:
            value = _group_value(row, name)
            if value is not None:
                buckets[str(value)].append(row)
        stats = []
        for value in sorted(buckets, key=_natural):
            metrics: list[UnitMetric] = headline_metrics(buckets[value], layout=layout)
            if not metrics:
                continue
            m = metrics[0]
            interval = bootstrap_ratio(m.num, m.den, n_resamples=n_resamples, confidence=confidence, seed=seed)
            stats.append(GroupStat(name, value, m.name, len(buckets[value]), interval))
        out[name] = stats
    return out


def _natural(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)
