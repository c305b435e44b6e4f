"""Reading a responses file through a suite: every usable row, every problem with file:line."""

from __future__ import annotations

from pathlib import Path

from ..errors import AdhereError
from ..suites.base import ResponseRow, Suite
from .jsonl import read_objects

__all__ = ["read_responses"]


def read_responses(suite: Suite, path: Path) -> tuple[list[ResponseRow], list[str]]:
    """The rows of ``path`` as the suite normalises them, and the problems met.

    A malformed line, a non-object, or a row the suite cannot use (its
    ``parse_response`` raises :class:`~adhere.errors.DatasetError` or another
    ``ValueError``/``TypeError``/``KeyError``) is reported as ``path:line: reason`` and
    skipped; the rest is still scored.

    Raises:
        OSError: the file cannot be read.
    """
    problems: list[str] = []
    rows: list[ResponseRow] = []
    name = str(path)
    for obj in read_objects(path, problems):
        try:
            rows.append(suite.parse_response(obj.value, obj.line))
        except (AdhereError, ValueError, TypeError, KeyError) as exc:
            problems.append(f"{name}:{obj.line}: {_bare_message(exc, obj.line)}; line skipped")
    return rows, problems


def _bare_message(exc: Exception, line: int) -> str:
    """The error text without a ``source:line:`` prefix the suite may have added itself."""
    message = str(exc) if not isinstance(exc, KeyError) else f"missing field {exc}"
    source = getattr(exc, "source", "")
    for prefix in (f"{source}:{line}: ", f":{line}: ", f"line {line}: "):
        if prefix and message.startswith(prefix):
            return message[len(prefix) :]
    return message
