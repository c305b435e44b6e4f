"""The append-only results store: durable appends and repair of what a kill leaves behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from adhere.run import JsonlStore


def rows(n: int, start: int = 0) -> list[dict[str, object]]:
    return [{"key": i, "verdict": {"outcome": "pass"}, "text": "é" * i} for i in range(start, start + n)]


def test_append_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    with JsonlStore(path) as store:
        assert store.append(rows(3)) == 3
        assert store.append([]) == 0
        assert store.append(rows(2, 3)) == 2
    assert JsonlStore(path).read_rows() == rows(5)
    assert path.read_bytes().endswith(b"\n")


def test_recover_missing_file(tmp_path: Path) -> None:
    rec = JsonlStore(tmp_path / "none.jsonl").recover()
    assert rec.rows == [] and rec.repairs == []


def test_recover_cuts_torn_tail_at_every_byte(tmp_path: Path) -> None:
    """Whatever byte a kill stops the last write at, recovery keeps exactly the complete rows."""
    full = b"".join(orjson.dumps(r) + b"\n" for r in rows(3))
    first_two = full[: full.index(b"\n", full.index(b"\n") + 1) + 1]
    path = tmp_path / "results.jsonl"
    for cut in range(len(first_two), len(full)):
        path.write_bytes(full[:cut])
        rec = JsonlStore(path).recover()
        assert rec.rows == rows(2), cut
        assert path.read_bytes() == first_two
        assert len(rec.repairs) == (0 if cut == len(first_two) else 1)
        # appending after recovery continues on a clean line boundary
        with JsonlStore(path) as store:
            store.append(rows(1, 2))
        assert JsonlStore(path).read_rows() == rows(3)


def test_recover_drops_damaged_middle_line(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    good = [orjson.dumps(r) for r in rows(3)]
    path.write_bytes(good[0] + b"\n" + b"\x00\x00garbage\n" + good[1] + b"\n[1]\n" + good[2] + b"\n")
    rec = JsonlStore(path).recover()
    assert rec.rows == rows(3)
    assert len(rec.repairs) == 1 and "dropped 2 damaged line(s) (2, 4)" in rec.repairs[0]
    assert path.read_bytes() == b"".join(g + b"\n" for g in good)


def test_rows_with_non_json_types(tmp_path: Path) -> None:
    from adhere.verdict import Verdict

    path = tmp_path / "results.jsonl"
    v = Verdict.of("x.y", True, "ok")
    row: dict[Any, Any] = {"key": (1, 2), "verdict": v, "tags": {"b", "a"}, "path": Path("/p"), 3: "int key"}
    with JsonlStore(path) as store:
        store.append([row])
    assert JsonlStore(path).read_rows() == [
        {"key": [1, 2], "verdict": v.to_dict(), "tags": ["a", "b"], "path": "/p", "3": "int key"}
    ]
