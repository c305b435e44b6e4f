"""Reading a run directory (``manifest.json``, ``results.jsonl``, ``summary.json``).

Reports only *read* runs. A run killed mid-write may end in a torn line; that line is
reported and skipped, never fatal. A path to a bare ``results.jsonl`` works too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..errors import DatasetError
from ..metrics.units import sample_of, unit_of
from ..run.jsonl import read_objects

__all__ = ["RunData", "load_run"]


@dataclass
class RunData:
    """One run, as read from disk."""

    path: Path
    rows: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name if self.path.is_dir() else self.path.parent.name or self.path.name

    @property
    def suite(self) -> str | None:
        suite = self.manifest.get("suite")
        return str(suite) if suite is not None else None

    @property
    def model(self) -> str | None:
        gen = self.manifest.get("generator")
        if isinstance(gen, dict):
            model = gen.get("model") or gen.get("name")
            return str(model) if model is not None else None
        responses = self.manifest.get("responses")
        if isinstance(responses, dict) and responses.get("path"):
            return f"responses: {Path(str(responses['path'])).name}"
        return None

    def describe(self) -> dict[str, str]:
        """Short facts for a report header (only those known)."""
        facts: dict[str, str] = {"run": self.name}
        if self.suite:
            facts["suite"] = self.suite
        if self.model:
            facts["model"] = self.model
        gen = self.manifest.get("generator")
        if isinstance(gen, dict):
            params = gen.get("params") or {}
            for key in ("n", "seed"):
                if gen.get(key) is not None:
                    facts[key] = str(gen[key])
            if isinstance(params, dict) and params:
                facts["sampling"] = ", ".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "extra")
        for key in ("adhere_version", "started"):
            if self.manifest.get(key):
                facts[key.replace("_", " ")] = str(self.manifest[key])
        return facts


def _read_json(path: Path, problems: list[str]) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        value = orjson.loads(path.read_bytes())
    except (orjson.JSONDecodeError, OSError) as exc:
        problems.append(f"{path}: unreadable ({exc}); ignored")
        return {}
    if not isinstance(value, dict):
        problems.append(f"{path}: not a JSON object; ignored")
        return {}
    return value


def load_run(path: str | os.PathLike[str]) -> RunData:
    """Read a run directory (or a ``results.jsonl`` file).

    Rows with the same (unit, sample) are kept once (the first), and the duplicates
    are reported: a resumed run must never count a sample twice.

    Raises:
        DatasetError: no results file, or it holds no usable row.
    """
    root = Path(path)
    results = root / "results.jsonl" if root.is_dir() else root
    if not results.is_file():
        raise DatasetError("no results.jsonl here: pass a run directory made by 'adhere eval'", str(root))
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    duplicates = 0
    try:
        for obj in read_objects(results, problems):
            identity = (unit_of(obj.value), sample_of(obj.value))
            if identity in seen:
                duplicates += 1
                continue
            seen.add(identity)
            rows.append(obj.value)
    except OSError as exc:
        raise DatasetError(f"cannot read: {exc.strerror or exc}", str(results)) from None
    if duplicates:
        problems.append(f"{results}: {duplicates} duplicate rows (same prompt and sample) ignored")
    if not rows:
        raise DatasetError("no result rows to report on", str(results))
    base = results.parent
    summary = _read_json(base / "summary.json", problems)
    manifest = _read_json(base / "manifest.json", problems)
    return RunData(root if root.is_dir() else results, rows, summary, manifest, problems)
