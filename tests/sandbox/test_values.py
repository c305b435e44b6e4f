"""Plain data across the boundary: exact round trips, and digests that agree with ``==``."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adhere.sandbox import Digest, Opaque
from adhere.sandbox._values import _size_exceeds, _token, decode, encode

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
    st.binary(max_size=4), st.complex_numbers(allow_nan=False, max_magnitude=1e6),
)  # fmt: skip
hashable = st.recursive(scalars, lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3), max_leaves=8)
values = st.recursive(
    hashable,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.sets(hashable, max_size=4)
        | st.dictionaries(hashable, inner, max_size=3)
    ),
    max_leaves=16,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_round_trip_is_exact(value: Any) -> None:
    back = decode(json.loads(encode(value)))
    assert back == value
    assert type(back) is type(value)


@settings(max_examples=300, deadline=None)
@given(values, values)
def test_digests_agree_with_equality(a: Any, b: Any) -> None:
    assert (_token(a) == _token(b)) == (a == b)


@given(values, st.integers(0, 40))
def test_the_size_cut_is_the_same_for_equal_values(value: Any, limit: int) -> None:
    twin = decode(json.loads(encode(value, limit=10**9)))  # equal, maybe different types inside
    assert _size_exceeds(value, limit) == _size_exceeds(twin, limit)


def test_large_values_become_digests_that_match_equal_ones() -> None:
    ints, floats, other = list(range(50_000)), [float(i) for i in range(50_000)], list(range(1, 50_001))
    a, b, c = (decode(json.loads(encode(v))) for v in (ints, floats, other))
    assert isinstance(a, Digest) and a == b and a != c
    assert _token([-1]) != _token([-2])  # Python's own hash(-1) == hash(-2); the digest does not care


def test_nan_and_opaque_equal_nothing() -> None:
    assert _token([math.nan]) != _token([math.nan])

    class Weird:
        def __eq__(self, other: object) -> bool:
            return True

    value = decode(json.loads(encode(Weird())))
    assert isinstance(value, Opaque) and value != value and value != 1


def test_subclasses_keep_their_name_and_their_value() -> None:
    class MyInt(int):
        def __eq__(self, other: object) -> bool:
            return True

    back = decode(json.loads(encode([MyInt(3)])))
    assert back == [3] and back != [4] and type(back[0]).__name__ == "MyInt"


_numbers = st.one_of(
    st.integers(-(2**60), 2**60), st.integers(-(2**53) - 2, -(2**53) + 2), st.integers(2**53 - 2, 2**53 + 2),
    st.floats(allow_nan=False), st.booleans(), st.just(-0.0), st.just(2.0**60),
)  # fmt: skip


def _twin(x: Any) -> Any:
    """An equal number of another type (what a candidate may return for an expected value)."""
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, int):
        return float(x) if float(x) == x else complex(x) if complex(x) == x else x
    if isinstance(x, float) and math.isfinite(x) and x.is_integer():
        return int(x)
    return complex(x, 0.0) if isinstance(x, float) and not math.isnan(x) else x


@settings(max_examples=400, deadline=None)
@given(st.lists(_numbers, max_size=12), st.data())
def test_number_lists_digest_like_equality(items: list[Any], data: st.DataObject) -> None:
    """Lists of ints/floats/bools (the C-speed path) against element-wise twins, tuples of
    them, and a changed element; and the generic path (a None inside) agrees with it."""
    twins = [_twin(x) for x in items]
    assert twins == items and _token(twins) == _token(items)
    assert _token(tuple(items)) != _token(items)
    assert _token([*items, None]) == _token([*twins, None])
    if items:
        i = data.draw(st.integers(0, len(items) - 1))
        other = data.draw(_numbers)
        changed = [*items[:i], other, *items[i + 1 :]]
        assert (_token(changed) == _token(items)) == (changed == items)
    nan_inside = [*items, math.nan]
    assert _token(nan_inside) != _token(nan_inside)
    assert _token([10**400, *items]) == _token([10**400, *twins]) != _token([10**400 + 1, *items])


def test_large_number_lists_at_c_speed_match_the_generic_text() -> None:
    tri = [1, 3, 2.0, 8.0] * 30_000  # HumanEval/130's shape: ints and floats mixed
    assert _token(tri) == _token([float(x) for x in tri]) == _token([*tri[:-1], 8])
    assert _token(tri) != _token([*tri[:-1], 8.5])
    assert _token([2**53, 1.0]) == _token([2.0**53, 1]) and _token([-0.0]) == _token([0]) == _token([False])
