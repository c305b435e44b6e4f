"""``adhere eval SUITE --model``: the generating runner against the scripted fake server.

The fake server answers IFEval prompts with the reference GPT-4 responses, so every
verdict is known. Some prompts fail transiently (retried, then answered), some
permanently (an unscorable row with the error, never a crash or a 0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from adhere.errors import AdhereError
from adhere.run import EvalRequest
from adhere.run.generate import GenerateOptions, run_generate
from adhere.suites import get_suite
from adhere.testing import FakeModelServer, Reply, SeenRequest
from adhere.testing.fake_openai import default_text

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ifeval"
pytestmark = pytest.mark.skipif(not (DATA / "reference_verdicts.jsonl").exists(), reason="shared IFEval data absent")
N_PROMPTS, N = 24, 3


def first_rows(tmp_path: Path, n: int = N_PROMPTS) -> Path:
    path = tmp_path / "ifeval.jsonl"
    lines = (DATA / "input_data.jsonl").read_bytes().splitlines()[:n]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def answers() -> dict[str, str]:
    out = {}
    for line in (DATA / "input_response_data_gpt4_20231107_145030.jsonl").read_text().splitlines():
        row = json.loads(line)
        out[row["prompt"]] = row["response"]
    return out


def reference() -> dict[int, list[bool]]:
    out = {}
    for line in (DATA / "reference_verdicts.jsonl").read_text().splitlines():
        ref = json.loads(line)
        out[ref["key"]] = ref["strict"]
    return out


def rows_of(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def prompts_of(data: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in data.read_bytes().splitlines()]


def test_generates_scores_and_records_errors_honestly(tmp_path: Path) -> None:
    data = first_rows(tmp_path)
    prompts = prompts_of(data)
    text = answers()
    flaky, refused, down = prompts[0], prompts[1], prompts[2]
    script: dict[str, list[Reply | str]] = {
        # transient: one 429 (Retry-After honoured), a cut body, then the answer, for each sample
        flaky["prompt"]: [Reply.rate_limited(0.01), Reply.truncated(), Reply.ok(text[flaky["prompt"]])],
        refused["prompt"]: [Reply.error(400, "prompt rejected by the content filter")],
        down["prompt"]: [Reply.error(503, "overloaded", retry_after=0.01)],
    }

    def responder(request: SeenRequest) -> Reply:
        return Reply.ok(text[request.prompt])

    out = tmp_path / "run"
    with FakeModelServer(script, responder=responder) as server:
        options = GenerateOptions(
            "openai:fake", base_url=server.base_url, n=N, seed=7, max_attempts=3, cache=tmp_path / "cache.sqlite"
        )
        outcome = run_generate(EvalRequest("ifeval", out, data=str(data)), options)
        seeds = Counter(r.seed for r in server.requests if r.prompt == prompts[5]["prompt"])
        assert server.count(flaky["prompt"]) == N + 2  # two transient failures, retried
        assert server.count(refused["prompt"]) == N  # permanent: never retried

    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "generations.jsonl",
        "manifest.json",
        "results.jsonl",
        "summary.json",
    ]
    assert seeds == Counter({7: 1, 8: 1, 9: 1})  # sample i is asked with seed + i
    rows = rows_of(out / "results.jsonl")
    assert len(rows) == outcome.rows == N_PROMPTS * N
    assert sorted((r["key"], r["sample"]) for r in rows) == sorted((p["key"], i) for p in prompts for i in range(N))
    gens = rows_of(out / "generations.jsonl")
    assert sorted((g["key"], g["sample"]) for g in gens) == sorted((r["key"], r["sample"]) for r in rows)

    ref = reference()
    errors = {(r["key"], r["sample"]): r for r in rows if r.get("error") is not None}
    assert set(errors) == {(p["key"], i) for p in (refused, down) for i in range(N)}
    for (key, _), row in errors.items():
        assert row["error_kind"] == ("permanent" if key == refused["key"] else "exhausted")
        assert row["response"] is None
        assert row["verdict"]["outcome"] == "unscorable"
        assert row["verdict"]["check"] == "model.generate"
        assert row["instructions"] and all(i["strict"] is None and i["loose"] is None for i in row["instructions"])
        assert all("model backend failed" in i["reason"] for i in row["instructions"])
    for row in rows:
        if row.get("error") is None:  # the flaky prompt included: retried into a real answer
            assert [i["strict"] for i in row["instructions"]] == ref[row["key"]], row["key"]

    summary = orjson.loads((out / "summary.json").read_bytes())
    assert summary["unscorable"] == 2 * N
    assert summary["n"] == (N_PROMPTS - 2) * N
    kept = [p["key"] for p in prompts if p["key"] not in (refused["key"], down["key"])]
    assert summary["prompt_strict"] == pytest.approx(sum(all(ref[k]) for k in kept) / len(kept))  # not diluted by 0s
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert manifest["generator"] == {"model": "openai:fake", "params": {"seed": 7}, "n": N, "strip_think": False}
    assert manifest["generation_errors"] == 2 * N
    assert manifest["responses"]["path"] is None


def test_resume_scores_stored_generations_without_asking_again(tmp_path: Path) -> None:
    """Generated but not yet scored when killed: the resumed run takes them from generations.jsonl."""
    data = first_rows(tmp_path, 10)
    out = tmp_path / "run"
    with FakeModelServer() as server:  # default deterministic texts, no cache
        options = GenerateOptions("openai:fake", base_url=server.base_url, n=2)
        run_generate(EvalRequest("ifeval", out, data=str(data)), options)
        full = sorted((out / "results.jsonl").read_bytes().splitlines())
        asked = server.request_count
        results = out / "results.jsonl"
        lines = results.read_bytes().splitlines(keepends=True)
        results.write_bytes(b"".join(lines[:7]) + lines[7][:20])  # lost rows and a torn tail
        outcome = run_generate(EvalRequest("ifeval", out, data=str(data), resume=True), options)
        assert server.request_count == asked  # nothing generated twice
    assert outcome.skipped == 7 and outcome.scored == 13
    assert sorted(results.read_bytes().splitlines()) == full
    assert len(rows_of(out / "generations.jsonl")) == 20  # and nothing recorded twice
    assert any("incomplete last line" in p for p in outcome.problems)


class Recorder:
    """A progress sink that remembers what it was told."""

    def __init__(self) -> None:
        self.total = self.start_done = self.advanced = 0

    def start(self, total: int, done: int = 0) -> None:
        self.total, self.start_done = total, done

    def advance(self, n: int = 1) -> None:
        self.advanced += n

    def stop(self) -> None:
        pass


def test_replay_of_generations_reproduces_the_run_and_limit_and_progress(tmp_path: Path) -> None:
    data = first_rows(tmp_path, 8)
    with FakeModelServer() as server:
        first = run_generate(
            EvalRequest("ifeval", tmp_path / "a", data=str(data)),
            GenerateOptions("openai:fake", base_url=server.base_url, n=2),
        )
        bar = Recorder()
        limited = run_generate(
            EvalRequest("ifeval", tmp_path / "c", data=str(data), limit=3),
            GenerateOptions("openai:fake", base_url=server.base_url, n=2),
            progress=bar,
        )
    assert (bar.total, bar.start_done, bar.advanced) == (6, 0, 6)
    assert limited.rows == 6 and {r["key"] for r in rows_of(tmp_path / "c" / "results.jsonl")} == {
        p["key"] for p in prompts_of(data)[:3]
    }
    replay = GenerateOptions(f"replay:{tmp_path / 'a' / 'generations.jsonl'}", n=2)
    again = run_generate(EvalRequest("ifeval", tmp_path / "b", data=str(data)), replay)
    assert again.summary == first.summary
    assert sorted((tmp_path / "b" / "results.jsonl").read_bytes().splitlines()) == sorted(
        (tmp_path / "a" / "results.jsonl").read_bytes().splitlines()
    )


def test_resume_asks_again_for_samples_whose_generation_failed_transiently(tmp_path: Path) -> None:
    data = first_rows(tmp_path, 6)
    prompts = prompts_of(data)
    down = prompts[2]["prompt"]
    out = tmp_path / "run"
    script: dict[str, list[Reply | str]] = {down: [Reply.error(503, "overloaded", retry_after=0.01)]}
    with FakeModelServer(script) as server:
        options = GenerateOptions("openai:fake", base_url=server.base_url, n=2, max_attempts=2)
        first = run_generate(EvalRequest("ifeval", out, data=str(data)), options)
        refused = [(r["key"], r["error_kind"]) for r in rows_of(out / "results.jsonl") if r.get("error")]
    assert refused == [(prompts[2]["key"], "exhausted")] * 2 and first.summary["unscorable"] == 2
    before = [
        line for line in (out / "results.jsonl").read_bytes().splitlines() if b'"error_kind":"exhausted"' not in line
    ]
    with FakeModelServer() as server:  # the server is back
        options = GenerateOptions("openai:fake", base_url=server.base_url, n=2, max_attempts=2)
        again = run_generate(EvalRequest("ifeval", out, data=str(data), resume=True), options)
        assert server.count(down) == 2 and server.request_count == 2  # only those two asked again
    rows = rows_of(out / "results.jsonl")
    assert sorted((r["key"], r["sample"]) for r in rows) == sorted((p["key"], i) for p in prompts for i in range(2))
    assert not any(r.get("error") for r in rows) and again.summary["unscorable"] == 0
    assert (out / "results.jsonl").read_bytes().splitlines()[: len(before)] == before  # the rest kept byte for byte
    assert any("failed transiently" in p for p in again.problems)


def test_resume_refuses_another_model_or_sampling(tmp_path: Path) -> None:
    data = first_rows(tmp_path, 3)
    out = tmp_path / "run"
    with FakeModelServer() as server:
        run_generate(
            EvalRequest("ifeval", out, data=str(data)), GenerateOptions("openai:fake", base_url=server.base_url)
        )
        for changed in (
            GenerateOptions("openai:other", base_url=server.base_url),
            GenerateOptions("openai:fake", base_url=server.base_url, temperature=0.7),
            GenerateOptions("openai:fake", base_url=server.base_url, n=2),
        ):
            with pytest.raises(AdhereError, match="model or its sampling parameters changed"):
                run_generate(EvalRequest("ifeval", out, data=str(data), resume=True), changed)
        with pytest.raises(AdhereError, match="already holds a run"):
            run_generate(EvalRequest("ifeval", out, data=str(data)), GenerateOptions("openai:fake"))


def test_failed_generation_rows_for_a_spec_suite_are_unscorable(tmp_path: Path) -> None:
    """The generic error row (no suite hook): the demo suite's layout, judged unknown."""
    from adhere.suites.demo import DEMO_FILE

    demo = prompts_of(DEMO_FILE)
    refused = {p["prompt"] for p in demo[::5]}

    def responder(request: SeenRequest) -> Reply:
        if request.prompt in refused:
            return Reply.error(401, "bad key")
        return Reply.ok(default_text(request.prompt, request.seed))

    out = tmp_path / "run"
    with FakeModelServer(responder=responder) as server:
        options = GenerateOptions("openai:fake", base_url=server.base_url)
        outcome = run_generate(EvalRequest("demo", out, data=str(DEMO_FILE)), options)
    rows = rows_of(out / "results.jsonl")
    assert len(rows) == len(demo)
    failed = [r for r in rows if r.get("error") is not None]
    assert {r["prompt"] for r in failed} == refused
    assert all(r["verdict"]["outcome"] == "unscorable" and r["error_kind"] == "permanent" for r in failed)
    assert outcome.summary["unscorable"] == len(refused)
    assert outcome.summary["passed"] + outcome.summary["failed"] == len(demo) - len(refused)
    assert get_suite("demo").summarize(rows) == outcome.summary


def test_a_backend_that_fails_everything_stops_the_run_without_writing_error_rows(tmp_path: Path) -> None:
    from adhere.errors import BackendError
    from adhere.suites.demo import DEMO_FILE

    out = tmp_path / "run"
    with FakeModelServer(responder=lambda r: Reply.error(404, "no such model")) as server:
        options = GenerateOptions("openai:fake", base_url=server.base_url)
        with pytest.raises(BackendError, match=r"failed all of the first 32 requests.*no such model"):
            run_generate(EvalRequest("demo", out, data=str(DEMO_FILE)), options)
    assert not (out / "results.jsonl").exists() or not rows_of(out / "results.jsonl")
    with FakeModelServer() as server:  # fixed: the same run resumes and completes
        outcome = run_generate(
            EvalRequest("demo", out, data=str(DEMO_FILE), resume=True),
            GenerateOptions("openai:fake", base_url=server.base_url),
        )
    assert outcome.rows == len(prompts_of(DEMO_FILE)) and outcome.summary["unscorable"] == 0


@pytest.mark.skipif(not (DATA.parent / "humaneval" / "HumanEval.jsonl.gz").exists(), reason="HumanEval data absent")
def test_failed_generation_row_for_a_code_suite_is_unscorable_not_failed() -> None:
    from adhere.models import Completion
    from adhere.run.generate import failed_row

    suite = get_suite("humaneval")
    samples = suite.load(str(DATA.parent / "humaneval" / "HumanEval.jsonl.gz"))[:2]
    rows = []
    for s in samples:
        c = Completion(s.key, 1, s.prompt, "", "", "openai:x", error="refused", error_kind="permanent")
        rows.append(failed_row(suite, s, c))
    for row, s in zip(rows, samples, strict=True):
        assert (row["task_id"], row["sample"], row["passed"], row["status"]) == (s.key, 1, None, "error")
        assert row["tests"] and all(t["status"] == "error" and "refused" in t["reason"] for t in row["tests"])
        assert row["verdict"]["outcome"] == "unscorable"
    summary = suite.summarize(rows)
    assert summary["unscorable"] == 2 and summary.get("pass@1") is None


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "adhere.cli", *args], env=env, capture_output=True, timeout=300)


def test_cli_acceptance_run_directory_and_report(tmp_path: Path) -> None:
    data = first_rows(tmp_path)
    env = {**os.environ, "ADHERE_PROGRESS": "0", "NO_COLOR": "1", "ADHERE_CACHE_DIR": str(tmp_path / "cache")}
    out = tmp_path / "run"
    with FakeModelServer() as server:
        args = ["eval", "ifeval", "--model", "openai:fake", "--base-url", server.base_url, "-n", "3"]
        done = cli(*args, "--data", str(data), "--out", str(out), "--json", env=env)
        assert done.returncode == 0, done.stderr
        both = cli(*args, "--data", str(data), "--out", str(tmp_path / "x"), "--responses", str(data), env=env)
        assert both.returncode == 2 and b"contradict" in both.stderr
        bad = cli(*args, "--data", str(data), "--out", str(tmp_path / "y"), "--top-p", "0", env=env)
        assert bad.returncode == 2 and b"top_p" in bad.stderr
    summary = json.loads(done.stdout)
    assert summary["n"] == 3 * N_PROMPTS
    rows = rows_of(out / "results.jsonl")
    assert Counter(r["sample"] for r in rows) == Counter({0: N_PROMPTS, 1: N_PROMPTS, 2: N_PROMPTS})
    html = tmp_path / "report.html"
    report = cli("report", str(out), "--html", str(html), env=env)
    assert report.returncode == 0, report.stderr
    page = html.read_text()
    assert "ifeval" in page and f"{summary['prompt_strict'] * 100:.1f}" in page
