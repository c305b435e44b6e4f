"""Reading JSONL written by others, robustly.

Responses files come from many tools and are often slightly broken: a truncated last
line, a stray log line, a byte-order mark, invalid UTF-8, lone surrogate escapes, a
10 MB response. :func:`read_objects` yields every usable JSON object with its line
number and reports each problem as ``file:line: what happened``; one bad line never
costs the rest of the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

__all__ = ["JsonlObject", "read_objects"]

_BOM = b"\xef\xbb\xbf"
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class JsonlObject:
    """One JSON object of a JSONL file and the 1-based line it came from."""

    line: int
    value: dict[str, Any]


def _replace_surrogates(value: Any) -> tuple[Any, bool]:
    """``value`` with lone surrogates (from ``\\ud800``-style escapes) replaced by U+FFFD.

    They are legal JSON escapes but not Unicode text; left in, they would break every
    writer downstream (orjson refuses them).
    """
    if isinstance(value, str):
        fixed = _SURROGATE_RE.sub("\ufffd", value)
        return fixed, fixed != value
    if isinstance(value, list):
        changed = False
        out = []
        for item in value:
            new, ch = _replace_surrogates(item)
            out.append(new)
            changed = changed or ch
        return out, changed
    if isinstance(value, dict):
        changed = False
        fixed_dict = {}
        for k, v in value.items():
            nk, ck = _replace_surrogates(k)
            nv, cv = _replace_surrogates(v)
            fixed_dict[nk] = nv
            changed = changed or ck or cv
        return fixed_dict, changed
    return value, False


def _parse_line(raw: bytes, where: str, notes: list[str]) -> Any:
    """The JSON value of one line, or raise ValueError with a short reason.

    The fast path is orjson on the raw bytes; the slow path (only for lines orjson
    refuses) repairs what can be repaired and says so in ``notes``.
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    repaired_utf8 = False
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace")
        repaired_utf8 = True
    try:
        value = json.loads(text)
    except ValueError as exc:  # json.JSONDecodeError
        msg = getattr(exc, "msg", str(exc))
        col = getattr(exc, "colno", None)
        raise ValueError(f"malformed JSON ({msg}{f' at column {col}' if col else ''})") from None
    except RecursionError:
        raise ValueError("malformed JSON (nested too deeply)") from None
    if repaired_utf8:  # noted only for lines that were usable after all
        notes.append(f"{where}: invalid UTF-8 bytes replaced with U+FFFD")
    value, changed = _replace_surrogates(value)
    if changed:
        notes.append(f"{where}: lone surrogate escapes replaced with U+FFFD")
    return value


def read_objects(path: Path, problems: list[str]) -> Iterator[JsonlObject]:
    """Every JSON object of ``path`` with its line number; problems are appended to ``problems``.

    Blank lines are ignored. A line that is not valid JSON, or not an object, is
    reported as ``path:line: ...; line skipped``. Lines of any length are fine.

    Raises:
        OSError: the file cannot be opened or read.
    """
    name = str(path)
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if lineno == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            if not raw.strip():
                continue
            where = f"{name}:{lineno}"
            try:
                value = _parse_line(raw, where, problems)
            except ValueError as exc:
                problems.append(f"{where}: {exc}; line skipped")
                continue
            if not isinstance(value, dict):
                problems.append(f"{where}: expected a JSON object, got {_json_type(value)}; line skipped")
                continue
            yield JsonlObject(lineno, value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__
