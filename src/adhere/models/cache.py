"""The on-disk response cache: re-runs and resumed runs never pay for a generation twice.

Keyed by a SHA-256 of the canonical JSON of (model identity, prompt, sampling
parameters, sample index). Stored in SQLite (standard library): every ``put`` is its
own committed transaction in WAL mode, so a process killed with SIGKILL loses at most
the completion it was writing, several processes can share one cache file, and
readers never see half a row. Only successful completions are stored: a failure is
retried on the next run.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from .base import GenParams, Prompt, RawOutput, prompt_to_json

__all__ = ["CACHE_VERSION", "ResponseCache", "cache_key", "default_cache_path"]

CACHE_VERSION = 1
"""Bumped when the key or value layout changes, so old entries are simply not found."""


def default_cache_path() -> Path:
    """``$ADHERE_CACHE_DIR/generations.sqlite``, else under ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    root = os.environ.get("ADHERE_CACHE_DIR")
    if root:
        return Path(root) / "generations.sqlite"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "adhere" / "generations.sqlite"


def cache_key(identity: Mapping[str, Any], prompt: Prompt, params: GenParams, sample: int) -> str:
    """Hex digest naming one (model, prompt, params, sample index) generation."""
    payload = {
        "v": CACHE_VERSION,
        "model": dict(identity),
        "prompt": prompt_to_json(prompt),
        "params": params.to_dict(),
        "sample": sample,
    }
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


class ResponseCache:
    """A persistent mapping from :func:`cache_key` digests to raw model outputs."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS generations ("
            " key TEXT PRIMARY KEY, model TEXT NOT NULL, value BLOB NOT NULL, created REAL NOT NULL)"
        )
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> RawOutput | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM generations WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        try:
            data = orjson.loads(row[0])
            out = RawOutput(
                raw=str(data["raw"]),
                reasoning=data.get("reasoning"),
                finish_reason=data.get("finish_reason"),
                usage=dict(data.get("usage") or {}),
                attempts=0,
            )
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.misses += 1  # a damaged entry is a miss; the next put replaces it
            return None
        self.hits += 1
        return out

    def put(self, key: str, out: RawOutput, *, model: str) -> None:
        value = orjson.dumps(
            {"raw": out.raw, "reasoning": out.reasoning, "finish_reason": out.finish_reason, "usage": dict(out.usage)}
        )
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO generations (key, model, value, created) VALUES (?, ?, ?, ?)",
                (key, model, value, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM generations").fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r})"
