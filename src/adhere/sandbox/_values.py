"""Plain data across the sandbox boundary: what a candidate returned, as trusted values.

The untrusted child never hands the supervisor an object: it walks the value with
*exact* type checks and writes tagged JSON; the supervisor rebuilds builtins from it and
compares those. So ``__eq__`` overrides, lying ``__repr__``\\ s or subclasses that
misbehave cannot influence a verdict: a value the walker does not know becomes an
:class:`Opaque`, which equals nothing.

Encoding (JSON, tags in one-key objects, so no user string can be mistaken for a tag)::

    None, bool, str, list, small int, finite float   as themselves
    {"$i": hex}          int beyond 2**63 (JSON parsers disagree on big ints)
    {"$f": "nan"|"inf"|"-inf"}
    {"$t": [...]}  tuple     {"$s": [...]} set     {"$fs": [...]} frozenset
    {"$d": [[k, v], ...]}  dict (any hashable keys, insertion order kept)
    {"$b": hex}  bytes       {"$c": [re, im]} complex
    {"$sub": "mod.Type", "v": base value}   subclass of a builtin (numpy.float64, ...)
    {"$o": "mod.Type"}      anything else (generator, custom class, ...): opaque
    {"$h": sha256, "n": size, "head": text}  a value too large to ship (see below)

Large values (tagged text over 64 KB) travel as a digest of their *normalised*
encoding (numbers compared as Python compares them: ``1 == 1.0 == True``; sets and dicts
order-free; set == frozenset), so two values get the same digest exactly when Python's
``==`` says they are equal (for plain data; NaN never equals anything). A digest met by a
value that was sent whole is compared by digesting that value the same way, so where the
cut falls never changes a verdict.

This module imports only the standard library: it runs inside the zygote too.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from typing import Any

__all__ = [
    "DIGEST_THRESHOLD",
    "Digest",
    "Opaque",
    "decode",
    "encode",
    "normalized_digest",
    "preview",
    "subclass_marker",
    "to_json",
]

#: Values whose normalised encoding is longer than this travel as a digest.
DIGEST_THRESHOLD = 64 * 1024
_MAX_DEPTH = 200
_BIG = 1 << 63
_SAFE_FLOAT_INT = 1 << 53

# Captured at import time (in the zygote, before any candidate runs), so a candidate that
# monkeypatches ``json`` or builtins cannot change how the harness encodes.
_dumps = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode
_type = type
_id = id
_len = len
_isinstance = isinstance
_sorted = sorted
_int_add = int.__add__
_float_val = float.__float__
_complex_real = complex.real.__get__
_complex_imag = complex.imag.__get__
_str_val = str.__str__
_bytes_val = bytes.__getitem__
_list_copy = list.copy
_tuple_val = tuple.__getitem__
_dict_items = dict.items
_set_copy = set.copy
_frozenset_val = frozenset.copy
_isnan = math.isnan
_isinf = math.isinf
_sha256 = hashlib.sha256
_urandom = os.urandom

_BASES: tuple[type, ...] = (bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset)


def _qualname(tp: type) -> str:
    module = getattr(tp, "__module__", "?")
    name = getattr(tp, "__qualname__", getattr(tp, "__name__", "?"))
    return f"{module}.{name}" if isinstance(module, str) and isinstance(name, str) else "?"


def _base_of(value: Any) -> type | None:
    for base in _BASES:
        if _isinstance(value, base):
            return base
    return None


def _numpy_item(value: Any) -> Any:
    """A numpy scalar's Python value (``np.int64(3)`` compares equal to 3), else a sentinel."""
    tp = _type(value)
    if getattr(tp, "__module__", None) == "numpy" and hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        try:
            item = value.item()
        except Exception:
            return _MISSING
        if _type(item) in (bool, int, float, complex, str, bytes):
            return item
    return _MISSING


_MISSING = object()


# --------------------------------------------------------------------------------------- #
# child side: encode
# --------------------------------------------------------------------------------------- #


def _enc_float(x: float) -> Any:
    if _isnan(x):
        return {"$f": "nan"}
    if _isinf(x):
        return {"$f": "inf" if x > 0 else "-inf"}
    return x


_NONE_TYPE = type(None)
_SCALARS = frozenset({str, bool, _NONE_TYPE})
_NUMERIC_SCALARS = frozenset({str, bool, _NONE_TYPE, int, float})
_isfinite = math.isfinite
_map = map
_set = set
_min = min
_max = max
_all = all
_chain = itertools.chain.from_iterable


def _plain_scalars(items: Any, normal: bool = False) -> list[Any] | None:
    """``items`` as a JSON list when every element is a scalar JSON carries exactly
    (exact str/bool/None, 64-bit int, finite float); else None. Type checks run at C speed,
    so big flat results (a list of a million ints) cost little.

    ``normal``: the normalised form (bools become ints, integral floats ints).
    """
    types = _set(_map(_type, items))
    if bool in types or float in types:
        _special[0] = True
    if not types <= _NUMERIC_SCALARS:
        return None
    if int in types:
        if types == {int}:
            if items and (_min(items) <= -_BIG or _max(items) >= _BIG):
                return None
        elif not _all(-_BIG < x < _BIG for x in items if _type(x) is int):
            return None
    if float in types and not _all(_map(_isfinite, (x for x in items if _type(x) is float))):
        return None
    if normal and (bool in types or float in types):
        return [
            (int(x) if _type(x) is bool or (x.is_integer() and -_SAFE_FLOAT_INT < x < _SAFE_FLOAT_INT) else x)
            if _type(x) is bool or _type(x) is float
            else x
            for x in items
        ]
    return list(items)


#: Set while encoding when the value holds anything the normalised form writes differently
#: (bool, float, set, dict, complex, subclass, opaque); otherwise the two texts coincide
#: and a large value is hashed without a second walk. The child is single-threaded.
_special = [False]


def _fast(value: Any, tp: type, normal: bool) -> Any:
    """The encoding of a flat container (or a container of flat tuples/lists), or None."""
    flat: Any = _plain_scalars(value, normal)
    if flat is None:
        types = _set(_map(_type, value))
        if not value or not (types == {tuple} or types == {list}):
            return None
        inner = _plain_scalars(list(_chain(value)), normal)  # every element of every item at once
        if inner is None:
            return None
        rows: Any = [_plain_scalars(x, True) for x in value] if normal and _special[0] else list(_map(list, value))
        flat = {"$lt": rows} if types == {tuple} else rows  # one tag for a whole list of flat tuples
    if tp is list:
        return flat
    if tp is tuple:
        return {"$t": flat}
    return None


def _enc(value: Any, depth: int, path: set[int]) -> Any:
    tp = _type(value)
    if value is None or tp is str:
        return value
    if tp is int:
        return value if -_BIG < value < _BIG else {"$i": hex(value)}
    if tp is bool:
        _special[0] = True
        return value
    if tp is float:
        _special[0] = True
        return _enc_float(value)
    if depth > _MAX_DEPTH:
        _special[0] = True
        return {"$o": "<nested too deeply>"}
    if tp is set or tp is frozenset or tp is dict:
        _special[0] = True
    if tp is list or tp is tuple or tp is set or tp is frozenset or tp is dict:
        key = _id(value)
        if key in path:
            return {"$o": "<recursive container>"}
        if tp is list or tp is tuple:
            quick = _fast(value, tp, False)
            if quick is not None:
                return quick
        path.add(key)
        try:
            d = depth + 1
            if tp is list:
                return [_enc(x, d, path) for x in value]
            if tp is tuple:
                return {"$t": [_enc(x, d, path) for x in value]}
            if tp is dict:
                return {"$d": [[_enc(k, d, path), _enc(v, d, path)] for k, v in _dict_items(value)]}
            return {"$s" if tp is set else "$fs": [_enc(x, d, path) for x in value]}
        finally:
            path.discard(key)
    if tp is bytes:
        return {"$b": value.hex()}
    _special[0] = True
    if tp is complex:
        return {"$c": [_enc_float(value.real), _enc_float(value.imag)]}
    # Subclasses of builtins: ship the builtin value, remember the type name (EvalPlus
    # compares ``type(out) == type(exp)`` on its tolerance path).
    item = _numpy_item(value)
    if item is not _MISSING:
        return {"$sub": _qualname(tp), "v": _enc(item, depth + 1, path)}
    if tp is Opaque:  # supervisor side: re-encoding decoded values (the reference cache)
        return {"$o": value.type_name, "b": value.truthy}
    if tp is Digest:
        return value.to_json()
    base = _base_of(value)
    if base is None or base is bool:
        return {"$o": _qualname(tp), "b": _truth(value)}
    if base is int:
        plain: Any = _int_add(value, 0)
    elif base is float:
        plain = _float_val(value)
    elif base is complex:
        plain = complex(_complex_real(value), _complex_imag(value))
    elif base is str:
        plain = _str_val(value)
    elif base is bytes:
        plain = _bytes_val(value, slice(None))
    elif base is list:
        plain = _list_copy(value)
    elif base is tuple:
        plain = _tuple_val(value, slice(None))
    elif base is dict:
        plain = dict(_dict_items(value))
    elif base is set:
        plain = _set_copy(value)
    else:
        plain = _frozenset_val(value)
    return {"$sub": _qualname(tp), "v": _enc(plain, depth + 1, path)}


def _truth(value: Any) -> bool:
    """Python's truthiness of an opaque value (``assert f(x)`` only asks for that)."""
    try:
        return (
            value.__bool__() is True
            if hasattr(value, "__bool__")
            else True
            if not hasattr(value, "__len__")
            else value.__len__() > 0
        )
    except BaseException:
        return False


def _norm(value: Any, depth: int, path: set[int]) -> Any:
    """The normalised form: equal (by Python ``==``) plain values give equal JSON text.

    It uses the tags of :func:`_enc`, so a value without bools, floats, sets, dicts,
    complex numbers or subclasses has the same text in both forms.
    """
    tp = _type(value)
    if value is None or tp is str:
        return value
    if tp is bool:
        return int(value)
    if tp is int:
        return value if -_BIG < value < _BIG else {"$i": hex(value)}
    if tp is float:
        if _isnan(value):
            return {"$nan": _urandom(8).hex()}  # NaN equals nothing
        if _isinf(value):
            return {"$f": "inf" if value > 0 else "-inf"}
        if value.is_integer() and -_SAFE_FLOAT_INT < value < _SAFE_FLOAT_INT:
            return int(value)
        return value
    if tp is complex:
        if value.imag == 0:
            return _norm(value.real, depth, path)
        return {"$c": [_norm(value.real, depth, path), _norm(value.imag, depth, path)]}
    if tp is bytes:
        return {"$b": value.hex()}
    if depth > _MAX_DEPTH:
        return {"$o": _urandom(8).hex()}
    if tp is list or tp is tuple or tp is set or tp is frozenset or tp is dict:
        key = _id(value)
        if key in path:
            return {"$o": _urandom(8).hex()}
        if tp is list or tp is tuple:
            quick = _fast(value, tp, True)
            if quick is not None:
                return quick
        path.add(key)
        try:
            d = depth + 1
            if tp is list:
                return [_norm(x, d, path) for x in value]
            if tp is tuple:
                return {"$t": [_norm(x, d, path) for x in value]}
            if tp is dict:
                items = [[_dumps(_norm(k, d, path)), _norm(v, d, path)] for k, v in _dict_items(value)]
                return {"$d": _sorted(items, key=lambda kv: kv[0])}
            return {"$s": _sorted(_dumps(_norm(x, d, path)) for x in value)}
        finally:
            path.discard(key)
    item = _numpy_item(value)
    if item is not _MISSING:
        return _norm(item, depth + 1, path)
    base = _base_of(value)
    if base is None or base is bool:
        return {"$o": _urandom(8).hex()}
    plain = _enc(value, depth, path)["v"]  # the builtin value, as encoded
    return _norm(decode(plain), depth + 1, path)


def to_json(value: Any) -> Any:
    """The tagged JSON form of a decoded value (inverse of :func:`decode`)."""
    return _enc(value, 0, set())


def encode(value: Any, threshold: int = DIGEST_THRESHOLD) -> str:
    """The JSON text the child ships for ``value`` (a digest when it is large)."""
    _special[0] = False
    tp = _type(value)
    if (tp is str or tp is bytes or tp is list or tp is tuple or tp is set or tp is dict) and _len(value) > threshold:
        return _digest(_dumps(_norm(value, 0, set())))  # surely large: skip the tagged text
    text: str = _dumps(_enc(value, 0, set()))
    if _len(text) <= threshold:
        return text
    return _digest(_dumps(_norm(value, 0, set())) if _special[0] else text)


def normalized_digest(value: Any) -> str:
    """SHA-256 of the normalised text of a (decoded, plain) value: what a :class:`Digest`
    of an equal value carries."""
    text = _dumps(_norm(value, 0, set()))
    return _sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _digest(norm: str) -> str:
    return _dumps(
        {"$h": _sha256(norm.encode("utf-8", "surrogatepass")).hexdigest(), "n": _len(norm), "head": norm[:160]}
    )


# --------------------------------------------------------------------------------------- #
# supervisor side: decode
# --------------------------------------------------------------------------------------- #


class Opaque:
    """A value the child could not express as plain data. It equals nothing, not even itself
    (a candidate returning ``object()`` twice must not match). Its truthiness is the one the
    child saw (``assert re.match(...)`` tests only ask for that; they are as weak here as
    in the original harness)."""

    __slots__ = ("truthy", "type_name")

    def __init__(self, type_name: str, truthy: bool = False) -> None:
        self.type_name = type_name
        self.truthy = truthy

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    def __bool__(self) -> bool:
        return self.truthy

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


class Digest:
    """A large value, known by the SHA-256 of its normalised encoding."""

    __slots__ = ("head", "sha256", "size")

    def __init__(self, sha256: str, size: int, head: str = "") -> None:
        self.sha256 = sha256
        self.size = size
        self.head = head

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Digest):
            return other.sha256 == self.sha256
        if isinstance(other, Opaque):
            return False
        try:  # a value the other side sent whole: compare by the same normalised digest
            return normalized_digest(other) == self.sha256
        except Exception:
            return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __repr__(self) -> str:
        return f"<{self.size:,} chars: {self.head[:60]}…>"

    def to_json(self) -> dict[str, Any]:
        return {"$h": self.sha256, "n": self.size, "head": self.head}


_SUBCLASSES: dict[tuple[type, str], type] = {}


def subclass_marker(base: type, type_name: str) -> type:
    """A builtin subclass named like the candidate's type, so ``type(out) == type(exp)``
    checks behave as in the reference while equality stays the builtin's."""
    key = (base, type_name)
    cls = _SUBCLASSES.get(key)
    if cls is None:
        if base is bool:
            base = int
        cls = type(type_name.rsplit(".", 1)[-1], (base,), {"__slots__": ()})
        cls.__module__ = type_name.rsplit(".", 1)[0] if "." in type_name else "?"
        cls.type_name = type_name  # type: ignore[attr-defined]
        _SUBCLASSES[key] = cls
    return cls


_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _dec_float(x: Any) -> float:
    if type(x) is dict:
        return _FLOATS.get(x.get("$f", ""), math.nan)
    return float(x)


def decode(obj: Any) -> Any:
    """Rebuild plain Python values from the child's JSON (already parsed). Malformed tags
    become :class:`Opaque`; nothing here runs candidate code."""
    tp = type(obj)
    if tp is list:
        return [decode(x) if type(x) in (list, dict) else x for x in obj]
    if tp is not dict:
        return obj
    if "$o" in obj and len(obj) == 2:
        return Opaque(str(obj["$o"]), obj.get("b") is True)
    if len(obj) == 1:
        ((tag, val),) = obj.items()
        try:
            if tag == "$t":
                return tuple(decode(x) for x in val)
            if tag == "$lt":
                return [tuple(decode(y) if type(y) in (list, dict) else y for y in x) for x in val]
            if tag == "$d":
                return {decode(k): decode(v) for k, v in val}
            if tag == "$s":
                return {decode(x) for x in val}
            if tag == "$fs":
                return frozenset(decode(x) for x in val)
            if tag == "$i":
                return int(val, 16)
            if tag == "$f":
                return _FLOATS[val]
            if tag == "$b":
                return bytes.fromhex(val)
            if tag == "$c":
                return complex(_dec_float(val[0]), _dec_float(val[1]))
            if tag == "$o":
                return Opaque(str(val))
        except (TypeError, ValueError, KeyError):
            return Opaque("<malformed>")
    if "$sub" in obj and "v" in obj:
        inner = decode(obj["v"])
        name = str(obj["$sub"])
        for base in (bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset):
            if type(inner) is base:
                if base is bool:
                    return inner  # numpy.bool_ -> bool: equality is all that matters
                try:
                    return subclass_marker(base, name)(inner)
                except TypeError:
                    return inner
        return inner
    if "$h" in obj:
        return Digest(str(obj["$h"]), int(obj.get("n", 0)), str(obj.get("head", "")))
    return Opaque("<malformed>")


def preview(value: Any, limit: int = 80) -> str:
    """A short, safe ``repr`` of a decoded value for reasons and reports."""
    try:
        text = repr(value)
    except Exception:  # pragma: no cover - decoded values are builtins
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"
