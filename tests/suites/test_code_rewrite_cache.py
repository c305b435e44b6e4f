"""The HumanEval rewrite cache serves exactly what a fresh rewrite produces, and only that."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adhere.sandbox import Assert, Check
from adhere.suites.code_asserts import dump_test
from adhere.suites.code_data import CodeTask, RewriteCache, read_records, tasks_from_records

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "humaneval" / "HumanEval.jsonl.gz"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="shared HumanEval data not present")


def _shape(task: CodeTask) -> tuple[Any, ...]:
    return (task.key, task.setup, task.rewrite, [dump_test(t) for t in task.tests])


def _load(cache: RewriteCache) -> list[CodeTask]:
    records, _ = read_records(DATA)
    tasks, problems = tasks_from_records(records, str(DATA), {"humaneval"}, cache=cache)
    assert not problems
    return tasks


def test_cached_rewrite_equals_a_fresh_one(tmp_path: Path) -> None:
    path = tmp_path / "rewrites.json"
    fresh = _load(RewriteCache(path))
    assert path.exists()
    cache = RewriteCache(path)
    assert len(cache.entries) == 164
    cached = _load(cache)
    assert cache.hits == 164  # every task came from the file
    assert [_shape(t) for t in cached] == [_shape(t) for t in fresh]
    # Every test is representable (no task silently skips the cache), and the judges agree.
    assert all(d is not None for t in fresh for d in (dump_test(x) for x in t.tests))
    checks = 0
    for a, b in zip(fresh, cached, strict=True):
        for x, y in zip(a.tests, b.tests, strict=True):
            if isinstance(x, Check):
                assert isinstance(y, Check)
                for values in [(None,) * len(x.sources), tuple(range(len(x.sources))), ("x",) * len(x.sources)]:
                    assert x.judge(values) == y.judge(values)
                checks += 1
            else:
                assert isinstance(x, Assert) and isinstance(y, Assert) and x.statement == y.statement
    assert checks > 1000


def test_an_entry_is_keyed_by_the_task_text(tmp_path: Path) -> None:
    path = tmp_path / "rewrites.json"
    records, _ = read_records(DATA)
    tasks_from_records(records[:3], "t", {"humaneval"}, cache=RewriteCache(path))
    changed = [(line, {**row, "test": row["test"].replace("assert", "assert not", 1)}) for line, row in records[:3]]
    cache = RewriteCache(path)
    tasks, _ = tasks_from_records(changed, "t", {"humaneval"}, cache=cache)
    assert len(cache.entries) == 6  # three misses, rewritten and added
    assert len(RewriteCache(path).entries) == 6
    fresh, _ = tasks_from_records(changed, "t", {"humaneval"}, cache=RewriteCache(None))
    assert [_shape(t) for t in tasks] == [_shape(t) for t in fresh]


@pytest.mark.parametrize(
    "content", [b"", b"not json", b'{"format": 0, "tasks": {}}', b'{"format": 1, "tasks": {"k": 1}}']
)
def test_a_broken_cache_file_is_ignored_and_replaced(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "rewrites.json"
    path.write_bytes(content)
    records, _ = read_records(DATA)
    fresh, _ = tasks_from_records(records[:5], "t", {"humaneval"}, cache=RewriteCache(None))
    tasks, _ = tasks_from_records(records[:5], "t", {"humaneval"}, cache=RewriteCache(path))
    assert [_shape(t) for t in tasks] == [_shape(t) for t in fresh]
    assert json.loads(path.read_bytes())["format"] == RewriteCache.FORMAT


def test_a_damaged_entry_is_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "rewrites.json"
    records, _ = read_records(DATA)
    fresh, _ = tasks_from_records(records[:2], "t", {"humaneval"}, cache=RewriteCache(path))
    data = json.loads(path.read_bytes())
    for entry in data["tasks"].values():
        entry["tests"] = [["check", "not a list", "x", "y", "z"]]
    path.write_text(json.dumps(data))
    tasks, _ = tasks_from_records(records[:2], "t", {"humaneval"}, cache=RewriteCache(path))
    assert [_shape(t) for t in tasks] == [_shape(t) for t in fresh]


def test_the_default_cache_file_names_the_rewriter_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADHERE_CACHE_DIR", str(tmp_path))
    cache = RewriteCache.default()
    assert cache.path is not None and cache.path.parent == tmp_path / "rewrites"
    name = cache.path.name
    assert name.startswith("humaneval-") and name.endswith(".json") and "-py3." in name


@pytest.mark.parametrize(
    "frame",
    [
        "__import__('os').system('true')",
        "().__class__.__base__",
        "__h0.__class__",
        "__h7 == 1",  # a hole the check does not have
        "open('/etc/passwd')",
        "math.__dict__",
        "[x for x in __h0]",
        "(lambda: 1)()",
        "__h0 ==",
    ],
)
def test_a_stored_frame_the_splitter_could_not_make_is_rejected(tmp_path: Path, frame: str) -> None:
    """Frames run in the supervisor: a tampered cache gets no more trust than the dataset."""
    path = tmp_path / "rewrites.json"
    records, _ = read_records(DATA)
    fresh, _ = tasks_from_records(records[:1], "t", {"humaneval"}, cache=RewriteCache(path))
    data = json.loads(path.read_bytes())
    (entry,) = data["tasks"].values()
    entry["tests"][0][2] = frame
    path.write_text(json.dumps(data))
    cache = RewriteCache(path)
    tasks, _ = tasks_from_records(records[:1], "t", {"humaneval"}, cache=cache)
    assert cache.hits == 0
    assert [_shape(t) for t in tasks] == [_shape(t) for t in fresh]
