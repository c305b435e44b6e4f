"""Load allenai/IFBench's own checkers beside ours, for the benchmark and the parity tests.

The reference code is never part of adhere: it is extracted at run time from a snapshot of
the repository into a temporary directory and imported from there. Where the snapshot is:

* ``$ADHERE_IFBENCH_REF``: a git directory (bare or not) or a checkout holding ``ifbench/``;
* else ``<project root>/../.mirror/allenai+IFBench/repo`` (where the workplace's fetch puts it).

Running it offline needs three small accommodations, none of which changes a verdict:
nltk data from ``../shared/data/nltk_data`` (Punkt and stop words); ``nltk.download`` made a
no-op while the reference imports (its import-time downloads would only try the network);
and stand-ins for ``immutabledict`` and ``absl.logging`` when those are not installed (the
checkers use neither for judging).
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "data"
NLTK_DATA = SHARED / "nltk_data"
IFBENCH_DATA = SHARED / "ifbench"

_SHIMS = {
    "immutabledict.py": "from types import MappingProxyType as immutabledict\n",
    "absl/__init__.py": "",
    "absl/logging.py": "from logging import debug, error, info, warning  # noqa: F401\n",
}


def reference_source() -> Path | None:
    """Where the IFBench snapshot is, or None."""
    env = os.environ.get("ADHERE_IFBENCH_REF")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT / ".." / ".mirror" / "allenai+IFBench" / "repo")
    for path in candidates:
        if (path / "ifbench" / "instructions.py").is_file() or (path / "HEAD").is_file() or (path / ".git").exists():
            return path.resolve()
    return None


def _extract(src: Path, dest: Path) -> None:
    if (src / "ifbench" / "instructions.py").is_file():
        shutil.copytree(src / "ifbench", dest / "ifbench")
        shutil.copy2(src / "evaluation_lib.py", dest / "evaluation_lib.py")
        return
    git_dir = src / ".git" if (src / ".git").exists() else src
    archive = subprocess.run(
        ["git", f"--git-dir={git_dir}", "archive", "HEAD", "ifbench", "evaluation_lib.py"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


_loaded: dict[str, ModuleType] = {}


def load_reference() -> ModuleType:
    """IFBench's ``evaluation_lib`` module (with its checkers), imported from a temp extract.

    Raises:
        FileNotFoundError: no snapshot of the repository or no nltk data is available.
    """
    if "evaluation_lib" in _loaded:
        return _loaded["evaluation_lib"]
    src = reference_source()
    if src is None:
        raise FileNotFoundError("no snapshot of allenai/IFBench (set ADHERE_IFBENCH_REF to a clone)")
    if not (NLTK_DATA / "tokenizers" / "punkt_tab").is_dir():
        raise FileNotFoundError(f"no nltk data at {NLTK_DATA}")
    dest = Path(tempfile.mkdtemp(prefix="ifbench-ref-"))
    _extract(src, dest)
    for name, text in _SHIMS.items():
        module = name.removesuffix(".py").replace("/__init__", "").replace("/", ".")
        try:
            importlib.import_module(module)
        except ImportError:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_text(text)
    import nltk

    nltk.data.path.insert(0, str(NLTK_DATA.resolve()))
    download = nltk.download
    nltk.download = lambda *args, **kwargs: False
    sys.path.insert(0, str(dest))
    try:
        module = importlib.import_module("evaluation_lib")
    finally:
        nltk.download = download
    _loaded["evaluation_lib"] = module
    return module


def reference_verdicts(
    lib: ModuleType, row: dict[str, Any], response: str | None
) -> tuple[list[bool], list[bool]] | None:
    """(strict, loose) verdicts of IFBench's evaluator on one prompt, run as ``run_eval`` does
    (strict first, then loose on the same kwargs); None when its checker raised."""
    inp = lib.InputExample(
        key=row["key"],
        instruction_id_list=list(row["instruction_id_list"]),
        prompt=row["prompt"],
        kwargs=[dict(k) for k in row["kwargs"]],
    )
    table = {} if response is None else {row["prompt"]: response}
    try:
        strict = lib.test_instruction_following_strict(inp, table).follow_instruction_list
        loose = lib.test_instruction_following_loose(inp, table).follow_instruction_list
    except Exception:
        return None
    return list(strict), list(loose)
