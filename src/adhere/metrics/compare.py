"""Compare two runs of one suite: paired differences per metric and the prompts that flipped.

Run A is the one being reported, run B the reference (``adhere report A --compare B``):
every difference is **A − B**. Only units (prompts, tasks) scored in both runs enter a
paired test; the others are counted, never silently mixed in.

A unit *passes* in a run when most of its scorable samples pass by the suite's main
criterion (all instructions strict, all tests, ...), *fails* when most fail, and is
*mixed* on a tie. A **flip** is a unit that passes in one run and fails in the other;
with one sample per prompt that is exactly "passed before, fails now" (or the reverse).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .bootstrap import DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES
from .paired import DEFAULT_PERMUTATIONS, PairedTest, paired_test
from .units import detect_layout, headline_metrics, primary_outcomes

__all__ = ["Flip", "MetricComparison", "RunComparison", "compare_runs"]

State = Literal["pass", "fail", "mixed"]


@dataclass(frozen=True)
class Flip:
    """A unit whose verdict changed between the runs."""

    unit: str
    a: State
    b: State
    rate_a: float
    rate_b: float
    samples_a: int
    samples_b: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "a": self.a,
            "b": self.b,
            "rate_a": self.rate_a,
            "rate_b": self.rate_b,
            "samples_a": self.samples_a,
            "samples_b": self.samples_b,
        }


@dataclass(frozen=True)
class MetricComparison:
    name: str
    test: PairedTest

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **self.test.to_dict()}


@dataclass(frozen=True)
class RunComparison:
    """Paired tests per shared metric, flips in both directions, and unit coverage."""

    metrics: list[MetricComparison]
    gained: list[Flip]
    lost: list[Flip]
    common_units: int
    only_a: int
    only_b: int
    settings: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": [m.to_dict() for m in self.metrics],
            "gained": [f.to_dict() for f in self.gained],
            "lost": [f.to_dict() for f in self.lost],
            "common_units": self.common_units,
            "only_a": self.only_a,
            "only_b": self.only_b,
            "settings": dict(self.settings),
        }


def _state(rate: float) -> State:
    if rate > 0.5:
        return "pass"
    if rate < 0.5:
        return "fail"
    return "mixed"


def compare_runs(
    rows_a: Sequence[Mapping[str, Any]],
    rows_b: Sequence[Mapping[str, Any]],
    summary_a: Mapping[str, Any] | None = None,
    summary_b: Mapping[str, Any] | None = None,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> RunComparison:
    """Paired comparison of run A against run B (differences are A − B)."""
    layout = detect_layout([*rows_a, *rows_b])
    metrics_a = {m.name: m for m in headline_metrics(rows_a, summary_a, layout)}
    metrics_b = {m.name: m for m in headline_metrics(rows_b, summary_b, layout)}
    compared = []
    for name, ma in metrics_a.items():
        mb = metrics_b.get(name)
        if mb is None:
            continue
        common = sorted(set(ma.units) & set(mb.units))
        na, da = ma.aligned(common)
        nb, db = mb.aligned(common)
        test = paired_test(
            na,
            da,
            nb,
            db,
            n_resamples=n_resamples,
            n_permutations=n_permutations,
            confidence=confidence,
            seed=seed,
        )
        compared.append(MetricComparison(name, test))

    out_a = primary_outcomes(rows_a, layout)
    out_b = primary_outcomes(rows_b, layout)
    gained: list[Flip] = []
    lost: list[Flip] = []
    for unit in sorted(out_a.keys() & out_b.keys()):
        fa, fb = out_a[unit], out_b[unit]
        if not fa or not fb:
            continue
        ra, rb = sum(fa) / len(fa), sum(fb) / len(fb)
        sa, sb = _state(ra), _state(rb)
        flip = Flip(unit, sa, sb, ra, rb, len(fa), len(fb))
        if sa == "pass" and sb == "fail":
            gained.append(flip)
        elif sa == "fail" and sb == "pass":
            lost.append(flip)
    units_a = {str(u) for u in out_a} | {u for m in metrics_a.values() for u in m.units}
    units_b = {str(u) for u in out_b} | {u for m in metrics_b.values() for u in m.units}
    return RunComparison(
        metrics=compared,
        gained=gained,
        lost=lost,
        common_units=len(units_a & units_b),
        only_a=len(units_a - units_b),
        only_b=len(units_b - units_a),
        settings={
            "seed": seed,
            "n_resamples": n_resamples,
            "n_permutations": n_permutations,
            "confidence": confidence,
            "direction": "A - B",
        },
    )
