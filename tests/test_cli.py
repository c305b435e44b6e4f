"""``adhere eval`` through the real command line (subprocesses): files, numbers, problems, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from adhere.spec import Spec
from adhere.subjects import Conversation, Message, Response
from adhere.suites.demo import DEMO_FILE

ROOT = Path(__file__).resolve().parents[1]
IFEVAL = ROOT / ".." / "shared" / "data" / "ifeval"


def adhere(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "250", "ADHERE_PROGRESS": "0"}
    env.pop("ADHERE_RUNS_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "adhere.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


def demo_outcome(row: dict[str, Any]) -> str:
    """The verdict of one demo row computed directly with the spec engine (no runner, no suite)."""
    history = tuple(Conversation.of(row.get("history") or ()).messages)
    turns = (*history, Message("user", row["prompt"])) if history else ()
    return Spec.parse(row["spec"]).evaluate(Response(row["response"], row["prompt"], turns)).outcome


# textblob (the offline POS tagger behind words.start_verb) leaves its lexicon file unclosed.
@pytest.mark.filterwarnings("ignore:Exception ignored in.*textblob:pytest.PytestUnraisableExceptionWarning")
def test_eval_demo_end_to_end(tmp_path: Path) -> None:
    proc = adhere("eval", "demo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    no_traceback(proc)
    runs = list((tmp_path / "adhere-runs").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("demo-")
    out = runs[0]
    assert sorted(p.name for p in out.iterdir()) == [".lock", "manifest.json", "results.jsonl", "summary.json"]

    demo = read_jsonl(DEMO_FILE)
    rows = read_jsonl(out / "results.jsonl")
    summary = orjson.loads((out / "summary.json").read_bytes())
    assert [r["key"] for r in rows] == [d["key"] for d in demo]
    direct = {d["key"]: demo_outcome(d) for d in demo}
    assert {r["key"]: r["verdict"]["outcome"] for r in rows} == direct
    # the hand-written labels: every verdict is what the demo's author intended, and both outcomes occur
    assert all(r["verdict"]["outcome"] == r["expect"] for r in rows)
    assert {"pass", "fail"} == {r["expect"] for r in rows}
    passed = sum(v == "pass" for v in direct.values())
    assert summary["n"] == len(demo)
    assert summary["passed"] == passed and summary["failed"] == len(demo) - passed
    assert summary["expected"] == {"labelled": len(demo), "matched": len(demo)}
    evaluated = sum(c["evaluated"] for c in summary["per_check"].values())
    assert evaluated == sum(1 for r in rows for _ in _registered_leaves(r["verdict"]))

    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert manifest["suite"] == "demo" and manifest["rows"] == len(demo) and manifest["problems"] == []
    assert manifest["responses"]["path"] == str(DEMO_FILE)
    # the printed table carries the same numbers
    assert f"│ passed            │ {passed:>7} │" in proc.stdout
    assert f"{len(demo)} rows ({len(demo)} scored)" in proc.stdout


def _registered_leaves(tree: dict[str, Any]) -> list[dict[str, Any]]:
    from adhere.registry import REGISTRY

    found = [tree] if tree["check"] in REGISTRY else []
    for child in tree.get("children", ()):
        found.extend(_registered_leaves(child))
    return found


def test_eval_json_output(tmp_path: Path) -> None:
    proc = adhere("eval", "demo", "--out", str(tmp_path / "run"), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert orjson.loads(proc.stdout) == orjson.loads((tmp_path / "run" / "summary.json").read_bytes())


def test_malformed_responses_are_reported_and_the_rest_scored(tmp_path: Path) -> None:
    demo = read_jsonl(DEMO_FILE)
    lines = [orjson.dumps({"key": d["key"], "response": d["response"]}) for d in demo]
    lines[3] = b'{"key": "broken", "response": '  # malformed JSON
    lines[5] = b'{"key": "' + demo[5]["key"].encode() + b'", "response": "caf\xe9 \xff"}'  # invalid UTF-8
    lines.insert(8, b"")  # blank line: ignored
    lines.insert(9, b"[1, 2, 3]")  # not an object
    lines.append(b'{"key": "no-such-prompt", "response": "hi"}')
    responses = tmp_path / "responses.jsonl"
    responses.write_bytes(b"\n".join(lines) + b"\n")

    out = tmp_path / "run"
    proc = adhere("eval", "demo", "--responses", str(responses), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    no_traceback(proc)
    rows = read_jsonl(out / "results.jsonl")
    assert len(rows) == len(demo)  # every prompt has a row; the one without a response fails
    by_key = {r["key"]: r for r in rows}
    missing = by_key[demo[3]["key"]]
    assert missing["response"] is None and missing["verdict"]["outcome"] == "fail"
    assert by_key[demo[5]["key"]]["response"] == "caf\ufffd \ufffd"
    problems = orjson.loads((out / "manifest.json").read_bytes())["problems"]
    assert f"{responses}:4: malformed JSON" in problems[0]
    assert f"{responses}:6: invalid UTF-8 bytes replaced with U+FFFD" in problems
    assert f"{responses}:10: expected a JSON object, got an array; line skipped" in problems
    assert any("no prompt matches key 'no-such-prompt'" in p for p in problems)
    assert any(f"key {demo[3]['key']!r}: no response; it fails" in p for p in problems)
    for p in problems:
        assert p in proc.stdout  # listed for the user, not only stored


def test_unknown_suite_suggests_a_name(tmp_path: Path) -> None:
    proc = adhere("eval", "dmeo", cwd=tmp_path)
    assert proc.returncode == 2
    no_traceback(proc)
    assert "unknown suite 'dmeo'; did you mean demo?" in proc.stderr
    assert not (tmp_path / "adhere-runs").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--responses", "missing.jsonl"], "responses file not found: missing.jsonl"),
        (["--data", "missing.jsonl", "--responses", "{demo}"], "missing.jsonl: cannot read the dataset"),
        (["--resume"], "--resume needs --out"),
        (["--out", "run", "--resume", "--force"], "--resume and --force contradict"),
        (["--limit", "0"], "Invalid value for '--limit'"),
    ],
)
def test_user_errors_exit_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    proc = adhere("eval", "demo", *(a.replace("{demo}", str(DEMO_FILE)) for a in args), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    no_traceback(proc)
    assert message in proc.stderr


def test_existing_run_needs_resume_or_force(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert adhere("eval", "demo", "--out", str(out), "--limit", "5", cwd=tmp_path).returncode == 0
    proc = adhere("eval", "demo", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 2 and "already holds a run" in proc.stderr
    n = len(read_jsonl(DEMO_FILE))
    proc = adhere("eval", "demo", "--out", str(out), "--resume", cwd=tmp_path)
    assert proc.returncode == 0 and f"{n} rows ({n - 5} scored, 5 already done)" in proc.stdout
    proc = adhere("eval", "demo", "--out", str(out), "--resume", cwd=tmp_path)
    assert proc.returncode == 0 and f"{n} rows (0 scored, {n} already done)" in proc.stdout
    # a changed input is refused on resume; --force starts over
    other = tmp_path / "other.jsonl"
    other.write_bytes(b"\n".join(DEMO_FILE.read_bytes().splitlines()[:-1]) + b"\n")
    proc = adhere("eval", "demo", "--data", str(other), "--out", str(out), "--resume", cwd=tmp_path)
    assert proc.returncode == 2 and "the data (prompts or their specs) changed" in proc.stderr
    proc = adhere("eval", "demo", "--data", str(other), "--out", str(out), "--force", cwd=tmp_path)
    assert proc.returncode == 0
    assert len(read_jsonl(out / "results.jsonl")) == n - 1


@pytest.mark.skipif(not IFEVAL.exists(), reason="the shared IFEval reference data is not present")
def test_eval_ifeval_matches_reference_verdicts(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = adhere(
        "eval",
        "ifeval",
        "--data",
        str(IFEVAL / "input_data.jsonl"),
        "--responses",
        str(IFEVAL / "input_response_data_gpt4_20231107_145030.jsonl"),
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    reference = {r["key"]: r for r in read_jsonl(IFEVAL / "reference_verdicts.jsonl")}
    rows = read_jsonl(out / "results.jsonl")
    assert sorted(r["key"] for r in rows) == sorted(reference)
    for row in rows:
        ref = reference[row["key"]]
        assert [i["id"] for i in row["instructions"]] == ref["instruction_id_list"]
        assert [i["strict"] for i in row["instructions"]] == ref["strict"], row["key"]
        assert [i["loose"] for i in row["instructions"]] == ref["loose"], row["key"]
    strict = [x for r in reference.values() for x in r["strict"]]
    loose = [x for r in reference.values() for x in r["loose"]]
    summary = orjson.loads((out / "summary.json").read_bytes())
    assert summary["n"] == len(reference)
    assert summary["prompt_strict"] == pytest.approx(sum(r["prompt_strict"] for r in reference.values()) / 541)
    assert summary["prompt_loose"] == pytest.approx(sum(r["prompt_loose"] for r in reference.values()) / 541)
    assert summary["inst_strict"] == pytest.approx(sum(strict) / len(strict))
    assert summary["inst_loose"] == pytest.approx(sum(loose) / len(loose))
    assert f"{summary['prompt_strict']:.5f}" in proc.stdout


def test_binary_responses_file_is_a_clear_error(tmp_path: Path) -> None:
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100)
    proc = adhere("eval", "demo", "--responses", str(binary), "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 2
    no_traceback(proc)
    assert f"{binary}: no usable responses (first problem: {binary}:1: malformed JSON" in proc.stderr
    assert not (tmp_path / "run").exists()


def test_default_hub_data_without_the_hf_extra_says_what_to_install(tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("datasets") is not None:
        pytest.skip("the hf extra is installed here; the hint is for machines without it")
    responses = tmp_path / "r.jsonl"
    responses.write_text('{"prompt": "p", "response": "r"}\n')
    proc = adhere("eval", "ifeval", "--responses", str(responses), "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 2
    no_traceback(proc)
    assert "pip install 'adhere[hf]'" in proc.stderr


@pytest.mark.parametrize("flag", ["--dedupe", "--no-dedupe"])
def test_code_eval_dedupe_flag(tmp_path: Path, flag: str) -> None:
    """Byte-identical samples share one run by default; ``--no-dedupe`` runs each itself.
    The program returns fresh random bytes, so only a shared run gives the samples the same
    failure reason (two independent runs agree with probability 2**-64)."""
    completion = "    import os\n    return os.urandom(8).hex()\n"
    samples = tmp_path / "samples.jsonl"
    samples.write_bytes(
        b"".join(orjson.dumps({"task_id": "HumanEval/0", "completion": completion}) + b"\n" for _ in range(3))
    )
    data = ROOT / ".." / "shared" / "data" / "humaneval" / "HumanEval.jsonl.gz"
    proc = adhere(
        "eval", "humaneval", "--data", str(data), "--responses", str(samples), "--out", "run", flag, cwd=tmp_path
    )
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    rows = [r for r in read_jsonl(tmp_path / "run" / "results.jsonl") if r["task_id"] == "HumanEval/0"]
    assert [r["passed"] for r in rows] == [False, False, False]
    reasons = {r["tests"][0]["reason"] for r in rows}
    assert "the program gave: '" in next(iter(reasons))
    assert len(reasons) == (1 if flag == "--dedupe" else 3)
