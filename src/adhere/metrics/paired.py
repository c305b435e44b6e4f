"""Paired comparison of two runs on the same units: paired bootstrap and a permutation test.

Both runs are scored on the same prompts, so their difference is measured *within*
each prompt: resampling or relabelling whole prompts keeps each prompt's pair together,
which is far more sensitive than comparing two independent intervals.

* **Paired bootstrap**: one set of resampling counts is applied to both runs; the
  interval is the percentile interval of ``ratio(A) - ratio(B)``.
* **Permutation test** (two-sided): under the null hypothesis that the runs are
  exchangeable, swapping A and B inside any prompt leaves the distribution unchanged.
  Each permutation swaps every prompt with probability 1/2; the p-value is
  ``(1 + #{|T*| >= |T|}) / (1 + n_permutations)`` (never 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    MIN_UNITS,
    Interval,
    percentile_interval,
    ratio_stats,
    resample_counts,
)

__all__ = ["DEFAULT_PERMUTATIONS", "PairedTest", "paired_bootstrap", "paired_test", "permutation_test"]

DEFAULT_PERMUTATIONS = 10_000
_CHUNK = 2_000  # permutations per block: bounds memory at _CHUNK x units floats


def _arrays(*arrays: ArrayLike) -> list[NDArray[np.float64]]:
    out = [np.asarray(a, dtype=np.float64) for a in arrays]
    shape = out[0].shape
    if any(a.shape != shape for a in out) or len(shape) != 1:
        raise ValueError(f"paired arrays must be 1-d and of one length, got shapes {[a.shape for a in out]}")
    return out


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> float:
    total = den.sum()
    return float(num.sum() / total) if total > 0 else math.nan


def paired_bootstrap(
    num_a: ArrayLike,
    den_a: ArrayLike,
    num_b: ArrayLike,
    den_b: ArrayLike,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> Interval:
    """Interval for ``ratio(A) - ratio(B)``, resampling units jointly."""
    na, da, nb, db = _arrays(num_a, den_a, num_b, den_b)
    estimate = _ratio(na, da) - _ratio(nb, db)
    if int(np.count_nonzero(da + db)) < MIN_UNITS:
        return Interval(estimate, math.nan, math.nan, confidence)
    counts = resample_counts(na.size, n_resamples, np.random.default_rng(seed))
    stats = ratio_stats(counts, na, da) - ratio_stats(counts, nb, db)
    return percentile_interval(stats, estimate, confidence)


def permutation_test(
    num_a: ArrayLike,
    den_a: ArrayLike,
    num_b: ArrayLike,
    den_b: ArrayLike,
    *,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> float:
    """Two-sided p-value of the paired difference ``ratio(A) - ratio(B)`` by random swaps."""
    na, da, nb, db = _arrays(num_a, den_a, num_b, den_b)
    observed = _ratio(na, da) - _ratio(nb, db)
    if na.size == 0 or math.isnan(observed):
        return math.nan
    rng = np.random.default_rng(seed)
    dn, dd = nb - na, db - da
    sn, sd = na.sum() + nb.sum(), da.sum() + db.sum()
    tol = 1e-12 * max(1.0, abs(observed))
    extreme = 0
    done = 0
    while done < n_permutations:
        size = min(_CHUNK, n_permutations - done)
        swap = rng.integers(0, 2, size=(size, na.size)).astype(np.float64)
        top_a = na.sum() + swap @ dn  # A's numerator after swapping the chosen units
        bottom_a = da.sum() + swap @ dd
        top_b, bottom_b = sn - top_a, sd - bottom_a
        with np.errstate(invalid="ignore", divide="ignore"):
            stat = top_a / bottom_a - top_b / bottom_b
        extreme += int(np.count_nonzero(np.abs(stat) >= abs(observed) - tol))
        done += size
    return (1 + extreme) / (1 + n_permutations)


@dataclass(frozen=True, slots=True)
class PairedTest:
    """Run A against run B on one metric over their common units."""

    a: float
    b: float
    diff: Interval
    p_value: float
    n_units: int
    n_permutations: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": None if math.isnan(self.a) else self.a,
            "b": None if math.isnan(self.b) else self.b,
            "diff": self.diff.to_dict(),
            "p_value": None if math.isnan(self.p_value) else self.p_value,
            "n_units": self.n_units,
            "n_permutations": self.n_permutations,
        }


def paired_test(
    num_a: ArrayLike,
    den_a: ArrayLike,
    num_b: ArrayLike,
    den_b: ArrayLike,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> PairedTest:
    """Both paired analyses at once."""
    na, da, nb, db = _arrays(num_a, den_a, num_b, den_b)
    return PairedTest(
        a=_ratio(na, da),
        b=_ratio(nb, db),
        diff=paired_bootstrap(na, da, nb, db, n_resamples=n_resamples, confidence=confidence, seed=seed),
        p_value=permutation_test(na, da, nb, db, n_permutations=n_permutations, seed=seed),
        n_units=int(na.size),
        n_permutations=n_permutations,
    )
