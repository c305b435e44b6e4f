"""Deliberately broken programs, made from a task's reference solution.

Each mutant wraps the reference function and spoils it in one known way, so a harness
can be checked against answers known by construction (and against another harness):

=================  =====================================================  ============
kind               what the program does                                  should
=================  =====================================================  ============
``canonical``      the reference itself                                   pass
``off_by_one``     numbers +1, sequences lose their last item, strings    fail
                   gain a character, booleans flip
``wrong_return``   returns None                                           fail
``exception``      raises ValueError                                      fail
``infinite_loop``  never returns (``while True: pass``)                   fail
``slow_correct``   the right answer after 0.3 s of CPU on its first call  pass
``wrong_type``     lists as tuples, tuples as lists, numbers as strings   fail
``eq_hack``        returns an object whose ``__eq__`` always says yes     fail
=================  =====================================================  ============

(Where the reference returns a value a spoiling cannot change, such as None, a mutant is
as correct as the reference; :func:`mutants` leaves such kinds out when ``expected`` says
so.)
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["KINDS", "SHOULD_PASS", "mutant", "mutants"]

KINDS: tuple[str, ...] = (
    "canonical", "off_by_one", "wrong_return", "exception", "infinite_loop", "slow_correct", "wrong_type", "eq_hack",
)  # fmt: skip
SHOULD_PASS = frozenset({"canonical", "slow_correct"})

_SPOIL = {
    "off_by_one": (
        "def _spoil(v):\n"
        "    if isinstance(v, bool):\n"
        "        return not v\n"
        "    if isinstance(v, (int, float)):\n"
        "        return v + 1\n"
        "    if isinstance(v, str):\n"
        "        return v + 'x'\n"
        "    if isinstance(v, (list, tuple)):\n"
        "        return v[:-1] if v else type(v)([0])\n"
        "    if v is None:\n"
        "        return 0\n"
        "    return None\n"
    ),
    "wrong_return": "def _spoil(v):\n    return None if v is not None else 0\n",
    "exception": "def _spoil(v):\n    raise ValueError('deliberately broken')\n",
    "infinite_loop": "def _spoil(v):\n    while True:\n        pass\n",
    "slow_correct": (
        "import time as _time\n"
        "_slow = [True]\n"
        "def _spoil(v):\n"
        "    if _slow:\n"
        "        _slow.clear()\n"
        "        _end = _time.process_time() + 0.3\n"
        "        while _time.process_time() < _end:\n"
        "            pass\n"
        "    return v\n"
    ),
    "wrong_type": (
        "def _spoil(v):\n"
        "    if isinstance(v, list):\n"
        "        return tuple(v)\n"
        "    if isinstance(v, tuple):\n"
        "        return list(v)\n"
        "    if isinstance(v, (bool, int, float)):\n"
        "        return str(v)\n"
        "    if isinstance(v, str):\n"
        "        return list(v)\n"
        "    return str(v)\n"
    ),
    "eq_hack": (
        "class _Yes:\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    def __ne__(self, other):\n"
        "        return False\n"
        "    def __bool__(self):\n"
        "        return True\n"
        "    __hash__ = object.__hash__\n"
        "def _spoil(v):\n"
        "    return _Yes()\n"
    ),
}


def mutant(reference: str, entry_point: str, kind: str) -> str:
    """The whole program of one mutant (the reference, then a wrapper of its entry point)."""
    if kind == "canonical":
        return reference
    if kind not in _SPOIL:
        raise ValueError(f"unknown mutant kind {kind!r}; known: {', '.join(KINDS)}")
    return (
        f"{reference}\n\n"
        f"{_SPOIL[kind]}\n"
        f"_reference_{entry_point} = {entry_point}\n"
        f"def {entry_point}(*args, **kwargs):\n"
        f"    return _spoil(_reference_{entry_point}(*args, **kwargs))\n"
    )


def mutants(reference: str, entry_point: str, kinds: tuple[str, ...] = KINDS) -> Iterator[tuple[str, str]]:
    """(kind, program) for each kind."""
    for kind in kinds:
        yield kind, mutant(reference, entry_point, kind)
