"""Reading responses files written by others: every bad line reported, the rest kept."""

from __future__ import annotations

from pathlib import Path

from adhere.run import read_objects


def read(path: Path) -> tuple[list[tuple[int, dict[str, object]]], list[str]]:
    problems: list[str] = []
    rows = [(o.line, o.value) for o in read_objects(path, problems)]
    return rows, problems


def test_good_blank_and_malformed_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(
        b'{"response": "a"}\n'
        b"\n"
        b"   \n"
        b'{"response": "b",}\n'  # trailing comma
        b"[1, 2]\n"
        b'"just a string"\n'
        b"not json at all\n"
        b'{"response": "c"}\r\n'
        b'{"response": "d"'  # truncated last line, no newline
    )
    rows, problems = read(path)
    assert rows == [(1, {"response": "a"}), (8, {"response": "c"})]
    assert len(problems) == 5
    assert problems[0].startswith(f"{path}:4: malformed JSON")
    assert problems[1] == f"{path}:5: expected a JSON object, got an array; line skipped"
    assert problems[2] == f"{path}:6: expected a JSON object, got a string; line skipped"
    assert problems[3].startswith(f"{path}:7: malformed JSON")
    assert problems[4].startswith(f"{path}:9: malformed JSON")
    assert all(p.endswith("; line skipped") for p in problems)


def test_invalid_utf8_is_replaced_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"response": "caf\xe9 \xff ok"}\n{"response": "fine"}\n')
    rows, problems = read(path)
    assert rows == [(1, {"response": "caf\ufffd \ufffd ok"}), (2, {"response": "fine"})]
    assert problems == [f"{path}:1: invalid UTF-8 bytes replaced with U+FFFD"]


def test_lone_surrogate_escape_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"response": "x\\ud800y", "k\\udfff": 1}\n')
    rows, problems = read(path)
    assert rows == [(1, {"response": "x\ufffdy", "k\ufffd": 1})]
    assert problems == [f"{path}:1: lone surrogate escapes replaced with U+FFFD"]


def test_bom_nan_and_deep_nesting(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    deep = b"[" * 100_000 + b"]" * 100_000
    path.write_bytes(b'\xef\xbb\xbf{"response": "bom"}\n{"score": NaN, "response": "n"}\n' + deep + b"\n")
    rows, problems = read(path)
    assert rows[0] == (1, {"response": "bom"})
    assert rows[1][0] == 2 and rows[1][1]["response"] == "n"
    assert len(rows) == 2
    assert problems == [f"{path}:3: malformed JSON (nested too deeply); line skipped"]


def test_huge_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    big = "word " * 2_000_000  # 10 MB on one line
    path.write_text('{"response": "' + big + '"}\n{"response": "small"}\n', encoding="utf-8")
    rows, problems = read(path)
    assert problems == []
    assert [len(str(v["response"])) for _, v in rows] == [len(big), 5]
