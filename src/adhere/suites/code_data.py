"""Reading the code benchmarks into :class:`CodeTask` objects.

Formats (each detected from its fields, whichever file it comes in: ``.jsonl``,
``.jsonl.gz`` or a ``.json`` array):

* HumanEval: ``task_id, prompt, canonical_solution, test, entry_point``; the test is a
  ``check(candidate)`` function, rewritten into sandbox-safe checks;
* MBPP, full (``task_id, text, code, test_setup_code, test_list``) and sanitized
  (``task_id, prompt, code, test_imports, test_list``): three assert strings each;
* EvalPlus (HumanEval+ / MBPP+): ``task_id, prompt, canonical_solution, entry_point,
  base_input, plus_input, atol``; tests are calls on the inputs.

Without a path, a suite reads its Hugging Face dataset (``adhere[hf]``): HumanEval and
MBPP there are the same records. The hub copies of HumanEval+ and MBPP+ are scripts
without the base/plus split, so those suites ask for the release file instead.
"""

from __future__ import annotations

import ast
import contextlib
import gzip
import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DatasetError, require
from ..sandbox import Assert, Test
from . import code_asserts
from .code_asserts import (
    RewriteReport,
    defined_names,
    dump_test,
    imported_names,
    load_test,
    parse_quietly,
    rewrite_assert,
    rewrite_check_function,
)
from .code_evalplus import cache_dir, file_md5, restore_mbpp_inputs

__all__ = ["CodeTask", "RewriteCache", "read_records", "tasks_from_records"]


@dataclass(frozen=True)
class CodeTask:
    """One programming task, ready to build jobs from."""

    key: Any
    text: str  # the task as a model sees it
    prompt: str  # the code a completion continues ("" when completions are whole programs)
    entry_point: str | None
    canonical: str  # the reference program
    tests: tuple[Test, ...] = ()  # assert-style suites: the (rewritten) tests
    setup: str = ""
    flavour: str = ""  # EvalPlus suites: "humaneval" or "mbpp"
    atol: float = 0.0
    base_inputs: tuple[tuple[Any, ...], ...] = ()
    plus_inputs: tuple[tuple[Any, ...], ...] = ()
    rewrite: RewriteReport = field(default_factory=RewriteReport)

    @property
    def is_plus(self) -> bool:
        return bool(self.flavour)


def read_records(path: Path) -> tuple[list[tuple[int, Any]], str]:
    """(line, record) pairs of a ``.jsonl``, ``.jsonl.gz`` or ``.json`` file, and the MD5 of
    its uncompressed bytes (EvalPlus's dataset hash).

    Raises:
        DatasetError: unreadable file, or not JSON at all.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read the dataset: {exc.strerror or exc}", str(path)) from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DatasetError(f"cannot decompress: {exc}", str(path)) from None
    digest = file_md5(raw)
    text = raw.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise DatasetError(f"not valid JSON: {exc}", str(path)) from None
        return list(enumerate(data, start=1)), digest
    records: list[tuple[int, Any]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((line_no, json.loads(line)))  # json, not orjson: the data has Infinity
        except ValueError as exc:
            raise DatasetError(f"not valid JSON ({exc})", str(path), line_no) from None
    return records, digest


def hub_records(dataset: str, config: str | None, split: str) -> list[tuple[int, Any]]:
    """Records of a Hugging Face dataset (needs ``adhere[hf]``)."""
    datasets: Any = require("datasets", "hf")
    try:
        ds = (
            datasets.load_dataset(dataset, config, split=split)
            if config
            else datasets.load_dataset(dataset, split=split)
        )
    except Exception as exc:  # network, hub or cache trouble: say what failed
        raise DatasetError(f"cannot load the Hugging Face dataset: {type(exc).__name__}: {exc}", dataset) from exc
    return [(i, dict(row)) for i, row in enumerate(ds, start=1)]


def _text(row: Mapping[str, Any], name: str, source: str, line: int, *, default: str | None = None) -> str:
    value = row.get(name, default)
    if not isinstance(value, str):
        raise DatasetError(f"field {name!r} must be a string, got {type(value).__name__}", source, line)
    return value


class RewriteCache:
    """HumanEval test files already rewritten into tests, kept between runs.

    Rewriting HumanEval's 164 ``check`` functions (parsing, splitting, unparsing) costs
    about a quarter of a second, every run. An entry is keyed by the MD5 of everything the
    rewrite reads (prompt, entry point, test file), and the file by the MD5 of the code
    that rewrites (this module, :mod:`.code_asserts`, the sandbox's test types) and the
    Python version (``ast.unparse`` differs between versions): a change to any of them
    starts a new file, so a cached rewrite is always what the current code would produce.
    It lives beside the reference outputs (``$ADHERE_CACHE_DIR/rewrites``); an unreadable
    or unwritable cache only costs the time.
    """

    FORMAT = 1
    MAX_ENTRIES = 20_000  # a file that grew past this starts over

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, Any] = {}
        self.dirty = False
        self.hits = 0
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(path.read_bytes())
                if isinstance(data, dict) and data.get("format") == self.FORMAT and isinstance(data.get("tasks"), dict):
                    self.entries = data["tasks"]

    @classmethod
    def default(cls) -> RewriteCache:
        return cls(_rewrite_cache_path())

    @staticmethod
    def key(*parts: str) -> str:
        return file_md5("\0".join(parts).encode("utf-8", "surrogatepass"))

    def get(self, key: str) -> tuple[tuple[Test, ...], str, RewriteReport] | None:
        entry = self.entries.get(key)
        if not isinstance(entry, dict):
            return None
        try:
            tests = tuple(load_test(t) for t in entry["tests"])
            checks, asserts, why = entry["report"]
            setup = entry["setup"]
            if not isinstance(setup, str) or not isinstance(why, str):
                return None
            self.hits += 1
            return tests, setup, RewriteReport(int(checks), int(asserts), why)
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, key: str, tests: tuple[Test, ...], setup: str, report: RewriteReport) -> None:
        data = [dump_test(t) for t in tests]
        if self.path is None or any(d is None for d in data):
            return
        self.entries[key] = {"tests": data, "setup": setup, "report": [report.checks, report.asserts, report.why_not]}
        self.dirty = True

    def save(self) -> None:
        """Write the entries added since loading (atomically; errors are ignored)."""
        if not self.dirty or self.path is None:
            return
        entries = self.entries if len(self.entries) <= self.MAX_ENTRIES else {}
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"format": self.FORMAT, "tasks": entries}), encoding="utf-8")
            os.replace(tmp, self.path)
        self.dirty = False


def _rewrite_cache_path() -> Path | None:
    """This rewriter's cache file, or None when its source cannot be read (no cache then)."""
    from ..sandbox import _model

    digest = []
    for module in (sys.modules[__name__], code_asserts, _model):
        try:
            digest.append(Path(module.__file__ or "").read_bytes())
        except OSError:
            return None
    version = file_md5(b"\0".join(digest))
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    return cache_dir() / "rewrites" / f"humaneval-{version}-f{RewriteCache.FORMAT}-py{py}.json"


def _humaneval(row: Mapping[str, Any], source: str, line: int, cache: RewriteCache | None = None) -> CodeTask:
    key = _text(row, "task_id", source, line)
    prompt = _text(row, "prompt", source, line)
    entry = _text(row, "entry_point", source, line)
    canonical = prompt + _text(row, "canonical_solution", source, line)
    test = _text(row, "test", source, line)
    cache_key = RewriteCache.key(prompt, entry, test)
    cached = cache.get(cache_key) if cache is not None else None
    if cached is not None:
        tests, setup, report = cached
        return CodeTask(key, prompt, prompt, entry, canonical, tests, setup, rewrite=report)
    try:
        allowed = defined_names(prompt) | imported_names(prompt)
        rewritten, setup, report = rewrite_check_function(test, entry, allowed)
    except SyntaxError as exc:
        raise DatasetError(f"{key}: the test does not parse: {exc}", source, line) from None
    if cache is not None:
        cache.put(cache_key, tuple(rewritten), setup, report)
    return CodeTask(key, prompt, prompt, entry, canonical, tuple(rewritten), setup, rewrite=report)


def _mbpp(row: Mapping[str, Any], source: str, line: int, sanitized: bool) -> CodeTask:
    key = row.get("task_id")
    if isinstance(key, bool) or not isinstance(key, int):
        raise DatasetError(f"'task_id' must be an integer, got {key!r}", source, line)
    code = _text(row, "code", source, line).replace("\r\n", "\n")
    if sanitized:
        text = _text(row, "prompt", source, line)
        imports = row.get("test_imports") or []
        setup = "\n".join(str(i) for i in imports)
    else:
        text = _text(row, "text", source, line)
        setup = _text(row, "test_setup_code", source, line, default="").replace("\r\n", "\n")
    asserts = row.get("test_list")
    if not isinstance(asserts, list) or not all(isinstance(a, str) for a in asserts):
        raise DatasetError("'test_list' must be a list of assert strings", source, line)
    allowed = defined_names(code) | defined_names(setup) | imported_names(setup)
    tests: list[Test] = []
    report = RewriteReport()
    for i, source_line in enumerate(asserts):
        try:
            tree = parse_quietly(source_line.strip())
        except SyntaxError as exc:
            raise DatasetError(f"task {key}: test {i} does not parse: {exc}", source, line) from None
        stmt = tree.body[0] if len(tree.body) == 1 else None
        check = rewrite_assert(stmt, allowed, label=str(i)) if isinstance(stmt, ast.Assert) else None
        if check is None:
            tests.append(Assert(source_line, label=str(i)))
            report.asserts += 1
            report.why_not = report.why_not or f"test {i} cannot be split"
        else:
            tests.append(check)
            report.checks += 1
    entry = _called_function(asserts, defined_names(code))
    return CodeTask(key, text, "", entry, code, tuple(tests), setup, rewrite=report)


def _called_function(asserts: list[str], defined: set[str]) -> str | None:
    """The reference's function the asserts call (what a model's answer must define)."""
    for source_line in asserts:
        try:
            tree = parse_quietly(source_line.strip())
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in defined:
                return node.func.id
    return None


def _inputs(value: Any, name: str, source: str, line: int) -> list[Any]:
    if value == {}:  # MBPP+ v0.2.0, Mbpp/793: an empty object where a list was meant
        return []
    if not isinstance(value, list) or not all(isinstance(v, list) for v in value):
        raise DatasetError(f"{name!r} must be a list of argument lists", source, line)
    return value


def _evalplus(row: Mapping[str, Any], source: str, line: int) -> CodeTask:
    key = _text(row, "task_id", source, line)
    flavour = "mbpp" if key.startswith("Mbpp/") else "humaneval"
    prompt = _text(row, "prompt", source, line)
    entry = _text(row, "entry_point", source, line)
    canonical = prompt + _text(row, "canonical_solution", source, line)
    base = _inputs(row.get("base_input"), "base_input", source, line)
    plus = _inputs(row.get("plus_input"), "plus_input", source, line)
    if flavour == "mbpp":
        number = int(key.split("/", 1)[1])
        base, plus = restore_mbpp_inputs(number, base), restore_mbpp_inputs(number, plus)
    atol = row.get("atol", 0) or 0
    if isinstance(atol, bool) or not isinstance(atol, (int, float)):
        raise DatasetError(f"'atol' must be a number, got {atol!r}", source, line)
    return CodeTask(
        key,
        prompt,
        prompt,
        entry,
        canonical,
        flavour=flavour,
        atol=float(atol),
        base_inputs=tuple(tuple(a) for a in base),
        plus_inputs=tuple(tuple(a) for a in plus),
    )


def detect_format(row: Mapping[str, Any]) -> str:
    """``humaneval``, ``mbpp``, ``mbpp-sanitized`` or ``evalplus`` from a record's fields."""
    if "base_input" in row and "plus_input" in row:
        return "evalplus"
    if "test_list" in row:
        return "mbpp-sanitized" if "test_imports" in row or "prompt" in row else "mbpp"
    if "entry_point" in row and "test" in row:
        return "humaneval"
    return "unknown"


def tasks_from_records(
    records: Iterable[tuple[int, Any]], source: str, expect: set[str], cache: RewriteCache | None = None
) -> tuple[list[CodeTask], list[DatasetError]]:
    """Tasks from records of one of the ``expect`` formats; bad records become problems.

    HumanEval's rewritten tests come from ``cache`` (default: :meth:`RewriteCache.default`)
    when it has them, and are added to it when not.
    """
    if cache is None and "humaneval" in expect:
        cache = RewriteCache.default()
    tasks: list[CodeTask] = []
    problems: list[DatasetError] = []
    seen: set[str] = set()
    for line, row in records:
        try:
            if not isinstance(row, Mapping):
                raise DatasetError(f"expected a JSON object, got {type(row).__name__}", source, line)
            fmt = detect_format(row)
            if fmt not in expect:
                hint = "an EvalPlus release file" if "evalplus" in expect else " or ".join(sorted(expect))
                raise DatasetError(f"this record is in {fmt!r} format; this suite reads {hint}", source, line)
            if fmt == "evalplus":
                task = _evalplus(row, source, line)
            elif fmt == "humaneval":
                task = _humaneval(row, source, line, cache)
            else:
                task = _mbpp(row, source, line, sanitized=fmt == "mbpp-sanitized")
        except DatasetError as exc:
            problems.append(exc)
            continue
        ident = str(task.key)
        if ident in seen:
            problems.append(DatasetError(f"duplicate task {task.key!r}; keeping the first", source, line))
            continue
        seen.add(ident)
        tasks.append(task)
    if cache is not None:
        cache.save()
    return tasks, problems
