"""ENAMEL's eff@k: the expected best efficiency score among k of n samples, unbiased.

Each sample of a task has an efficiency score ``e`` in [0, 1] (0 when incorrect); with
``e`` in {0, 1} eff@k is exactly pass@k. Sorting the n scores ascending,
``e_(1) <= ... <= e_(n)``, the best of a random k-subset is ``e_(r)`` with probability
``C(r-1, k-1) / C(n, k)``, so (METHODS.md §2)::

    eff@k = sum_{r=k..n} C(r-1, k-1) / C(n, k) * e_(r)

computed in the stable product form ``lambda_n = k/n``,
``lambda_r = lambda_{r+1} * (1 - (k-1)/r)`` for r = n-1 down to k, which never forms
the huge binomials.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["eff_at_k", "eff_at_k_weights"]


def eff_at_k_weights(n: int, k: int) -> NDArray[np.float64]:
    """The weights ``lambda_r`` (length ``n``; zero below rank ``k``) of the sorted scores."""
    if n < 1 or k < 1:
        raise ValueError(f"n and k must be at least 1 (got n={n}, k={k})")
    if k > n:
        raise ValueError(f"eff@{k} needs at least {k} samples per task, this one has {n}")
    weights = np.zeros(n, dtype=np.float64)
    weights[n - 1] = k / n
    for r in range(n - 1, k - 1, -1):  # r is 1-based: weights[r - 1] is lambda_r
        weights[r - 1] = weights[r] * (1 - (k - 1) / r)
    return weights


def eff_at_k(scores: ArrayLike | Sequence[float], k: int) -> float:
    """Unbiased eff@k of one task from its n per-sample efficiency scores.

    Raises:
        ValueError: ``k > n``, ``k < 1``, or a score outside [0, 1] or not finite.
    """
    e = np.sort(np.asarray(scores, dtype=np.float64))
    if e.ndim != 1:
        raise ValueError("scores must be a flat sequence")
    if not np.isfinite(e).all() or (e < 0).any() or (e > 1).any():
        raise ValueError("efficiency scores must be finite and within [0, 1]")
    return float(eff_at_k_weights(e.size, k) @ e)
