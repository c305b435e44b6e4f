"""Append-only JSONL stores that survive ``kill -9`` at any moment.

A run directory's ``results.jsonl`` (and, later, ``generations.jsonl``) is written only
by appending whole lines: each batch is serialised first, written with one call,
flushed and fsynced. A killed process can therefore leave at most one incomplete line,
at the very end. :meth:`JsonlStore.recover` finds it (no trailing newline, or not
parseable), cuts it off, and returns the rows that are really there, so a resumed run
redoes exactly the missing samples: nothing is duplicated and nothing is lost.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

__all__ = ["JsonlStore", "Recovered", "dumps_row", "fsync_dir", "write_json_atomic"]

# Dataclasses go through ``_default`` so a Verdict is written in its ``to_dict`` form.
_DUMP_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATACLASS


def _default(obj: Any) -> Any:
    """JSON form of the few non-JSON types a suite may put in a row."""
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    raise TypeError(f"cannot write a {type(obj).__name__} into a results row")


def dumps_row(row: Mapping[str, Any]) -> bytes:
    """One JSONL line (with its newline) for ``row``."""
    return orjson.dumps(row, default=_default, option=_DUMP_OPTIONS | orjson.OPT_APPEND_NEWLINE)


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a new or renamed file) durable; a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json_atomic(path: Path, value: Any, *, durable: bool = True) -> None:
    """Write ``value`` as indented JSON to ``path`` atomically (temp file, rename).

    Readers never see a half-written file, even if the writer is killed. ``durable``
    also fsyncs the data and the directory, so the file survives a power cut too.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    data = orjson.dumps(value, default=_default, option=_DUMP_OPTIONS | orjson.OPT_INDENT_2) + b"\n"
    with open(tmp, "wb") as f:
        f.write(data)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if durable:
        fsync_dir(path.parent)


@dataclass
class Recovered:
    """What :meth:`JsonlStore.recover` found: the intact rows and what it repaired."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)


class JsonlStore:
    """An append-only JSONL file of result rows (see the module docstring).

    Use :meth:`recover` once before appending to a file a previous process wrote.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    # -- reading and repairing ------------------------------------------------------------
    def recover(self) -> Recovered:
        """The complete rows already in the file, after cutting off a torn tail.

        A torn tail (the last line lacks its newline or is not valid JSON) is what a
        kill during a write leaves; it is truncated away. A damaged line elsewhere
        (which our writer never produces, but a disk or an editor might) is dropped by
        rewriting the file atomically without it. Either way the samples concerned are
        simply scored again.
        """
        out = Recovered()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return out
        end = data.rfind(b"\n") + 1  # bytes up to and including the last newline
        if end < len(data):
            out.repairs.append(
                f"{self.path}: cut off an incomplete last line ({len(data) - end} bytes) left by an interrupted write"
            )
        bad_lines: list[int] = []
        good: list[bytes] = []
        for lineno, line in enumerate(data[:end].split(b"\n")[:-1], 1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                bad_lines.append(lineno)
                continue
            if not isinstance(row, dict):
                bad_lines.append(lineno)
                continue
            out.rows.append(row)
            good.append(line)
        if bad_lines:
            shown = ", ".join(map(str, bad_lines[:10])) + (" ..." if len(bad_lines) > 10 else "")
            out.repairs.append(
                f"{self.path}: dropped {len(bad_lines)} damaged line(s) ({shown}); their samples are scored again"
            )
            self._rewrite(good)
        elif end < len(data):
            with open(self.path, "r+b") as f:
                f.truncate(end)
                f.flush()
                os.fsync(f.fileno())
        return out

    def _rewrite(self, lines: list[bytes]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "wb") as f:
            f.write(b"".join(line + b"\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)

    def read_rows(self) -> list[dict[str, Any]]:
        """Every complete row of the file (the tail must have been recovered)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        return [orjson.loads(line) for line in data.split(b"\n") if line.strip()]

    # -- appending ------------------------------------------------------------------------------
    def append(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Append ``rows`` as one write, flushed and fsynced; returns how many were written."""
        lines = [dumps_row(r) for r in rows]
        if not lines:
            return 0
        if self._fd is None:
            created = not self.path.exists()
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            if created:
                fsync_dir(self.path.parent)
        view = memoryview(b"".join(lines))
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)
        return len(lines)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> JsonlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
