"""Metrics: pure numpy functions of result rows and verdicts.

* :mod:`.passk` pass@k and :mod:`.effk` eff@k (unbiased estimators from n samples);
* :mod:`.bootstrap` seeded, prompt-level bootstrap intervals;
* :mod:`.paired` paired bootstrap and permutation test between two runs;
* :mod:`.units` result rows → per-unit numerators/denominators of each headline metric;
* :mod:`.breakdown` per-check, per-category and per-group breakdowns;
* :func:`run_statistics` and :func:`compare_runs`: everything a report shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_members

if TYPE_CHECKING:
    from .bootstrap import Interval, bootstrap_mean, bootstrap_ratio
    from .breakdown import CheckStat, GroupStat
    from .compare import Flip, RunComparison, compare_runs
    from .effk import eff_at_k
    from .paired import PairedTest, paired_bootstrap, paired_test, permutation_test
    from .passk import pass_at_k
    from .stats import CurvePoint, MetricStat, RunStatistics, run_statistics
    from .units import UnitMetric, detect_layout, headline_metrics

# Imported on first use (PEP 562): a code suite needs only :mod:`.passk`, and importing
# this package must not pull in every statistics module on the way.
_HOMES = {
    "bootstrap": ("Interval", "bootstrap_mean", "bootstrap_ratio"),
    "breakdown": ("CheckStat", "GroupStat"),
    "compare": ("Flip", "RunComparison", "compare_runs"),
    "effk": ("eff_at_k",),
    "paired": ("PairedTest", "paired_bootstrap", "paired_test", "permutation_test"),
    "passk": ("pass_at_k",),
    "stats": ("CurvePoint", "MetricStat", "RunStatistics", "run_statistics"),
    "units": ("UnitMetric", "detect_layout", "headline_metrics"),
}


__all__ = [
    "CheckStat",
    "CurvePoint",
    "Flip",
    "GroupStat",
    "Interval",
    "MetricStat",
    "PairedTest",
    "RunComparison",
    "RunStatistics",
    "UnitMetric",
    "bootstrap_mean",
    "bootstrap_ratio",
    "compare_runs",
    "detect_layout",
    "eff_at_k",
    "headline_metrics",
    "paired_bootstrap",
    "paired_test",
    "pass_at_k",
    "permutation_test",
    "run_statistics",
]

__getattr__, __dir__ = lazy_members(__name__, globals(), _HOMES, __all__)
