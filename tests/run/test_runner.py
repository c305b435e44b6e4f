"""The runner on the Suite contract (a tiny spec suite): files, problems, resume, refusals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from adhere.errors import DatasetError, SpecError
from adhere.run import EvalRequest, JsonlStore, RunDirError, run_eval

NO_COMMA = {"check": "punctuation.no_comma"}


def write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def make_inputs(tmp_path: Path, n: int = 40, samples: int = 1) -> tuple[Path, Path]:
    data = write_jsonl(
        tmp_path / "data.jsonl",
        [{"key": f"k{i}", "prompt": f"prompt {i}", "spec": NO_COMMA} for i in range(n)],
    )
    responses = write_jsonl(
        tmp_path / "responses.jsonl",
        [
            {"key": f"k{i}", "sample": s, "response": "a, b" if (i + s) % 3 == 0 else "a b"}
            for i in range(n)
            for s in range(samples)
        ],
    )
    return data, responses


def sorted_rows(out: Path) -> list[bytes]:
    return sorted((out / "results.jsonl").read_bytes().splitlines())


def test_run_writes_results_summary_manifest(tmp_path: Path, tiny_suite: str) -> None:
    data, responses = make_inputs(tmp_path, n=30)
    with responses.open("ab") as f:
        f.write(b"{broken\n")
        f.write(b'{"key": "nope", "response": "x"}\n')
        f.write(b'{"key": "k1", "response": 5}\n')
    out = tmp_path / "run"
    got = run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=responses, batch_size=7))
    rows = JsonlStore(out / "results.jsonl").read_rows()
    assert got.rows == got.scored == len(rows) == 30 and got.skipped == 0
    # i % 3 == 0 responses contain a comma and fail: 10 of 30
    assert got.summary == {"n": 30, "passed": 20, "pass_rate": 20 / 30}
    assert orjson.loads((out / "summary.json").read_bytes()) == got.summary
    assert [r["key"] for r in rows] == [f"k{i}" for i in range(30)]
    assert all(r["sample"] == 0 for r in rows)
    assert got.problems == [
        f"{responses}:31: malformed JSON (Expecting property name enclosed in double quotes at column 2); line skipped",
        f"{responses}:33: needs a 'response' string; line skipped",
        "response for unknown key 'nope'",
    ]
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert manifest["suite"] == "tiny"
    assert manifest["responses"]["path"] == str(responses)
    assert len(manifest["responses"]["sha256"]) == 64
    assert manifest["data"]["source"] == str(data) and len(manifest["data"]["sha256"]) == 64
    assert manifest["samples"]["n"] == 30
    assert manifest["checks"]["punctuation.no_comma"] == "1"
    assert manifest["problems"] == got.problems
    assert manifest["rows"] == 30 and manifest["finished"] >= manifest["started"]
    assert {"adhere_version", "python", "platform", "started", "resumed"} <= manifest.keys()


def test_existing_run_is_not_overwritten(tmp_path: Path, tiny_suite: str) -> None:
    data, responses = make_inputs(tmp_path, n=5)
    out = tmp_path / "run"
    run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=responses))
    before = (out / "results.jsonl").read_bytes()
    with pytest.raises(RunDirError, match=r"already holds a run.*--resume.*--force"):
        run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=responses))
    assert (out / "results.jsonl").read_bytes() == before
    again = run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=responses, force=True))
    assert again.scored == 5 and (out / "results.jsonl").read_bytes() == before


@pytest.mark.parametrize("samples", [1, 3])
def test_resume_after_torn_write_redoes_only_missing(tmp_path: Path, tiny_suite: str, samples: int) -> None:
    data, responses = make_inputs(tmp_path, n=25, samples=samples)
    full = tmp_path / "full"
    run_eval(EvalRequest(tiny_suite, full, data=str(data), responses=responses))
    total = 25 * samples

    part = tmp_path / "part"
    run_eval(EvalRequest(tiny_suite, part, data=str(data), responses=responses))
    results = part / "results.jsonl"
    lines = results.read_bytes().splitlines(keepends=True)
    # what a kill mid-write leaves: 11 complete rows and half of the 12th
    results.write_bytes(b"".join(lines[:11]) + lines[11][: len(lines[11]) // 2])
    (part / "summary.json").unlink()

    got = run_eval(EvalRequest(tiny_suite, part, data=str(data), responses=responses, resume=True))
    assert got.skipped == 11 and got.scored == total - 11 and got.rows == total
    assert any("cut off an incomplete last line" in p for p in got.problems)
    assert sorted_rows(part) == sorted_rows(full)
    assert (part / "summary.json").read_bytes() == (full / "summary.json").read_bytes()
    manifest = orjson.loads((part / "manifest.json").read_bytes())
    assert len(manifest["resumed"]) == 1

    # resuming a complete run scores nothing and changes nothing
    again = run_eval(EvalRequest(tiny_suite, part, data=str(data), responses=responses, resume=True))
    assert again.scored == 0 and again.skipped == total
    assert sorted_rows(part) == sorted_rows(full)


def test_resume_refuses_changed_inputs(tmp_path: Path, tiny_suite: str) -> None:
    data, responses = make_inputs(tmp_path, n=5)
    out = tmp_path / "run"
    run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=responses))
    with responses.open("ab") as f:
        f.write(b'{"key": "k0", "sample": 1, "response": "more"}\n')
    with pytest.raises(RunDirError, match="responses file changed"):
        run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=responses, resume=True))
    write_jsonl(data, [{"key": "k0", "prompt": "p", "spec": {"not": NO_COMMA}}])
    with pytest.raises(RunDirError, match=r"data .* changed"):
        run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=responses, resume=True))


def test_limit_then_resume_without_limit(tmp_path: Path, tiny_suite: str) -> None:
    data, responses = make_inputs(tmp_path, n=12)
    out = tmp_path / "run"
    first = run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=responses, limit=5))
    assert first.rows == 5 and first.problems == []  # responses to later samples are not "unmatched"
    rest = run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=responses, resume=True))
    assert (rest.skipped, rest.scored, rest.rows) == (5, 7, 12)
    full = run_eval(EvalRequest(tiny_suite, tmp_path / "full", data=str(data), responses=responses))
    assert sorted_rows(out) == sorted_rows(full.out)
    with pytest.raises(DatasetError, match="--limit must be at least 1"):
        run_eval(EvalRequest(tiny_suite, tmp_path / "x", data=str(data), responses=responses, limit=0))


def test_unknown_suite_suggests(tmp_path: Path, tiny_suite: str) -> None:
    with pytest.raises(SpecError, match="unknown suite 'tinyy'; did you mean tiny"):
        run_eval(EvalRequest("tinyy", tmp_path / "o", responses=tmp_path / "r.jsonl"))


def test_missing_responses(tmp_path: Path, tiny_suite: str) -> None:
    data, _ = make_inputs(tmp_path, n=2)
    with pytest.raises(DatasetError, match="responses file not found"):
        run_eval(EvalRequest(tiny_suite, tmp_path / "o", data=str(data), responses=tmp_path / "missing.jsonl"))
    with pytest.raises(DatasetError, match="needs responses to score: pass --responses"):
        run_eval(EvalRequest(tiny_suite, tmp_path / "o", data=str(data)))
    assert not (tmp_path / "o").exists()


def test_manifest_generator_change_is_a_conflict() -> None:
    from adhere.run.manifest import resume_conflicts

    base = {"suite": "s", "samples": {"sha256": "a"}, "responses": {"sha256": None}, "checks": {"x.y": "1"}}
    old = {**base, "generator": {"model": "openai:m", "temperature": 0.7, "n": 3, "seed": 1}}
    assert resume_conflicts(old, dict(old)) == []
    new = {**base, "generator": {"model": "openai:m", "temperature": 1.0, "n": 3, "seed": 1}}
    assert resume_conflicts(old, new) == ["the model or its sampling parameters changed since the run started"]
    bumped = {**old, "checks": {"x.y": "2"}}
    assert resume_conflicts(old, bumped) == ["check versions changed (x.y 1->2)"]


def test_unusable_inputs_are_errors_not_empty_runs(tmp_path: Path, tiny_suite: str) -> None:
    data, responses = make_inputs(tmp_path, n=4)
    out = tmp_path / "run"
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(bytes(range(256)) * 40 + b"\n\x00\xff\n")
    with pytest.raises(DatasetError, match=r"no usable responses \(first problem: .*garbage.jsonl:1: "):
        run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=garbage))
    other = write_jsonl(tmp_path / "other.jsonl", [{"key": "zz", "response": "x"}])
    with pytest.raises(DatasetError, match="none of the 1 responses matches a prompt"):
        run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=other))
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(DatasetError, match="no usable samples"):
        run_eval(EvalRequest(tiny_suite, out, data=str(empty), responses=responses))
    assert not out.exists()  # nothing is created for a run that cannot start


def test_many_problems_are_capped_in_the_manifest(tmp_path: Path, tiny_suite: str) -> None:
    data, responses = make_inputs(tmp_path, n=3)
    with responses.open("ab") as f:
        f.write(b"not json\n" * 1500)
    got = run_eval(EvalRequest(tiny_suite, tmp_path / "run", data=str(data), responses=responses))
    assert len(got.problems) == 1500 and got.rows == 3
    manifest = orjson.loads((tmp_path / "run" / "manifest.json").read_bytes())
    assert len(manifest["problems"]) == 1000 and manifest["problems_total"] == 1500


def test_a_run_directory_is_locked_while_in_use(tmp_path: Path, tiny_suite: str) -> None:
    import fcntl
    import os

    data, responses = make_inputs(tmp_path, n=3)
    out = tmp_path / "run"
    run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=responses))
    fd = os.open(out / ".lock", os.O_RDWR)  # as another process writing this run would hold it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RunDirError, match="another adhere process is writing the run"):
            run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=responses, resume=True))
        with pytest.raises(RunDirError, match="another adhere process"):
            run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=responses, force=True))
        assert (out / "results.jsonl").exists()  # --force did not delete a run in use
    finally:
        os.close(fd)
    assert run_eval(EvalRequest(tiny_suite, out, data=str(data), responses=responses, resume=True)).skipped == 3


def test_a_suite_without_checks_records_none(tmp_path: Path, tiny_suite: str) -> None:
    """``uses_checks = False``: the manifest lists no check versions, and resuming still works."""
    from adhere.suites.base import SUITES

    factory = SUITES[tiny_suite]

    class NoChecks(factory):  # type: ignore[misc,valid-type]
        uses_checks = False

    SUITES["tiny-nochecks"] = NoChecks
    try:
        data, responses = make_inputs(tmp_path, n=6)
        out = tmp_path / "run"
        got = run_eval(EvalRequest("tiny-nochecks", out, data=str(data), responses=responses, limit=3))
        assert got.rows == 3
        assert orjson.loads((out / "manifest.json").read_bytes())["checks"] == {}
        again = run_eval(EvalRequest("tiny-nochecks", out, data=str(data), responses=responses, resume=True))
        assert again.rows == 6 and again.skipped == 3
    finally:
        SUITES.pop("tiny-nochecks", None)
