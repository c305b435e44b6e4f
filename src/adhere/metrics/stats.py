"""Everything the reports show about one run, computed once: :func:`run_statistics`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .bootstrap import DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES, Interval, bootstrap_mean, bootstrap_ratio
from .breakdown import CheckStat, GroupStat, category_stats, check_stats, group_stats
from .passk import pass_at_k
from .units import Layout, UnitMetric, detect_layout, headline_metrics, primary_outcomes

__all__ = ["CurvePoint", "MetricStat", "RunStatistics", "curve_ks", "pass_curve", "run_statistics"]


@dataclass(frozen=True)
class MetricStat:
    """One headline metric: value with interval, over how many units and items."""

    name: str
    description: str
    interval: Interval
    units: int
    items: float
    excluded: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            **self.interval.to_dict(),
            "units": self.units,
            "items": self.items,
            "excluded": self.excluded,
        }


@dataclass(frozen=True)
class CurvePoint:
    k: int
    interval: Interval
    units: int


@dataclass(frozen=True)
class RunStatistics:
    """Headline metrics with intervals, breakdowns and the pass@k curve of one run."""

    layout: Layout
    rows: int
    units: int
    samples: tuple[int, int]
    unscorable_rows: int
    headline: list[MetricStat]
    checks: list[CheckStat]
    categories: list[CheckStat]
    groups: dict[str, list[GroupStat]]
    curve: list[CurvePoint]
    settings: Mapping[str, Any] = field(default_factory=dict)

    def metric(self, name: str) -> MetricStat | None:
        return next((m for m in self.headline if m.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "rows": self.rows,
            "units": self.units,
            "samples_per_unit": list(self.samples),
            "unscorable_rows": self.unscorable_rows,
            "headline": [m.to_dict() for m in self.headline],
            "checks": [c.to_dict() for c in self.checks],
            "categories": [c.to_dict() for c in self.categories],
            "groups": {k: [g.to_dict() for g in v] for k, v in self.groups.items()},
            "pass_curve": [{"k": p.k, **p.interval.to_dict(), "units": p.units} for p in self.curve],
            "settings": dict(self.settings),
        }


def curve_ks(n: int) -> list[int]:
    """The k values worth plotting for n samples per unit: all of them up to 20, else
    1..10 and then about eight per decade."""
    if n <= 20:
        return list(range(1, n + 1))
    ks = set(range(1, 11))
    ks.update(round(float(x)) for x in np.geomspace(10, n, num=max(2, int(8 * math.log10(n / 10)) + 1)))
    return sorted(k for k in ks if k <= n)


def pass_curve(
    outcomes: Mapping[str, Sequence[bool]],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> list[CurvePoint]:
    """pass@k for k = 1..n (thinned past 10) over the units that have n samples each."""
    counts = [(len(flags), sum(flags)) for flags in outcomes.values() if flags]
    if not counts:
        return []
    smallest = min(n for n, _ in counts)
    points = []
    for k in curve_ks(smallest):
        values = [pass_at_k(n, c, k) for n, c in counts]
        interval = bootstrap_mean(values, n_resamples=n_resamples, confidence=confidence, seed=seed)
        points.append(CurvePoint(k, interval, len(values)))
    return points


def _stat(m: UnitMetric, **kw: Any) -> MetricStat:
    return MetricStat(
        m.name, m.description, bootstrap_ratio(m.num, m.den, **kw), len(m.units), float(m.den.sum()), m.excluded
    )


def run_statistics(
    rows: Sequence[Mapping[str, Any]],
    summary: Mapping[str, Any] | None = None,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> RunStatistics:
    """Compute every statistic of a run from its result rows (and its summary, which
    only decides which extra boolean fields are headline numbers)."""
    kw: dict[str, Any] = {"n_resamples": n_resamples, "confidence": confidence, "seed": seed}
    layout = detect_layout(rows)
    outcomes = primary_outcomes(rows, layout)
    per_unit = [len(v) for v in outcomes.values()] or [0]
    from .units import row_passed, unit_of

    unscorable = sum(row_passed(r, layout) is None for r in rows)
    headline = [_stat(m, **kw) for m in headline_metrics(rows, summary, layout)]
    return RunStatistics(
        layout=layout,
        rows=len(rows),
        units=len({unit_of(r) for r in rows}),
        samples=(min(per_unit), max(per_unit)),
        unscorable_rows=unscorable,
        headline=headline,
        checks=check_stats(rows, layout, **kw),
        categories=category_stats(rows, layout, **kw),
        groups=group_stats(rows, None, layout, **kw),
        curve=pass_curve(outcomes, **kw) if max(per_unit) > 1 else [],
        settings={"seed": seed, "n_resamples": n_resamples, "confidence": confidence, "method": "percentile"},
    )
