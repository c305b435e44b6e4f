"""``manifest.json``: what a run was made from, so it can be reproduced and resumed safely.

The manifest is written (atomically) before the first result row, so a results file
never exists without one. On ``--resume`` the new manifest is compared with the stored
one and the run is refused when its inputs changed: mixing rows scored against two
datasets, two response files or two versions of a check would give a silently wrong
summary.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from ..suites.base import Sample

__all__ = ["build_manifest", "file_sha256", "resume_conflicts", "samples_sha256", "utc_now"]


def utc_now() -> str:
    """The current time as an ISO-8601 UTC string with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _payload_json(payload: Any) -> bytes:
    to_dict = getattr(payload, "to_dict", None)
    if callable(to_dict):
        payload = to_dict()
    try:
        return orjson.dumps(payload, default=_payload_default, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return repr(type(payload)).encode()


def _payload_default(obj: Any) -> Any:
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError


def samples_sha256(samples: Iterable[Sample]) -> str:
    """A digest of every sample's key, prompt and spec/payload (where it serialises).

    It identifies the *scored* data whatever its source (a local file or a hub dataset).
    """
    h = hashlib.sha256()
    for s in samples:
        h.update(orjson.dumps([s.key, s.prompt], default=str, option=orjson.OPT_NON_STR_KEYS))
        h.update(_payload_json(s.payload))
        h.update(b"\n")
    return h.hexdigest()


def check_versions() -> dict[str, str]:
    """Version of every registered check (built-ins and loaded plugins)."""
    from ..registry import REGISTRY

    return {c.id: c.version for c in REGISTRY}


def build_manifest(
    *,
    suite: str,
    data: str | None,
    responses: Path | None,
    samples: Sequence[Sample],
    started: str,
    limit: int | None,
    argv: Sequence[str] = (),
    generator: Mapping[str, Any] | None = None,
    uses_checks: bool = True,
) -> dict[str, Any]:
    """The manifest of a run about to start (see the module docstring).

    ``generator`` describes how responses were produced when a model backend made them
    (backend, model, sampling parameters, seed, n); resuming with a different one is refused.
    ``uses_checks=False`` (a suite whose verdicts never come from registered checks, as
    the code suites') records no check versions: listing them imports every check.
    """
    from .. import __version__

    uname = os.uname()
    return {
        "adhere_version": __version__,
        "suite": suite,
        "data": {
            "source": data if data is not None else "default",
            "sha256": file_sha256(Path(data)) if data is not None and Path(data).is_file() else None,
        },
        "samples": {"n": len(samples), "sha256": samples_sha256(samples)},
        "responses": {
            "path": str(responses) if responses is not None else None,
            "sha256": file_sha256(responses) if responses is not None else None,
        },
        "limit": limit,
        "generator": dict(generator) if generator is not None else None,
        "checks": check_versions() if uses_checks else {},
        "python": sys.version.split()[0],
        "implementation": sys.implementation.name,
        "platform": {"system": uname.sysname, "release": uname.release, "machine": uname.machine},
        "argv": list(argv),
        "started": started,
        "resumed": [],
    }


def resume_conflicts(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Why a run made from ``old`` cannot be continued with ``new``'s inputs (empty: it can)."""
    out: list[str] = []
    if old.get("suite") != new.get("suite"):
        out.append(f"the suite differs (run: {old.get('suite')!r}, now: {new.get('suite')!r})")

    def digest(m: Mapping[str, Any], part: str) -> Any:
        value = m.get(part)
        return value.get("sha256") if isinstance(value, Mapping) else None

    if digest(old, "samples") != digest(new, "samples"):
        out.append("the data (prompts or their specs) changed since the run started")
    if digest(old, "responses") != digest(new, "responses"):
        out.append("the responses file changed since the run started")
    if old.get("generator") != new.get("generator"):
        out.append("the model or its sampling parameters changed since the run started")
    old_checks, new_checks = _mapping(old.get("checks")), _mapping(new.get("checks"))
    changed = sorted(k for k in old_checks.keys() & new_checks.keys() if old_checks[k] != new_checks[k])
    if changed:
        shown = ", ".join(f"{k} {old_checks[k]}->{new_checks[k]}" for k in changed[:5])
        out.append(f"check versions changed ({shown}{' ...' if len(changed) > 5 else ''})")
    return out


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
