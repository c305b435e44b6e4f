"""Generator → suite → statistics, the way the runner drives it, against the fake server.

The fake server answers IFEval prompts with the reference GPT-4 responses, so every
verdict is known; some prompts are scripted to fail transiently (retried, then
answered) and some permanently (recorded, then unscorable: never a crash, never 0).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from adhere.metrics import run_statistics
from adhere.models import Completion, GenParams, OpenAIGenerator, Request, ResponseCache, RetryPolicy
from adhere.suites import get_suite
from adhere.suites.base import Pair, ResponseRow, Sample
from adhere.testing import FakeModelServer, Reply, SeenRequest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ifeval"
N_PROMPTS, N_SAMPLES = 40, 2


def result_row(suite: Any, sample: Sample, c: Completion) -> dict[str, Any]:
    """What the runner writes for one completion (see the report: "How the runner calls it")."""
    if c.ok:
        pair = Pair(sample, ResponseRow(text=c.text, key=sample.key, sample_index=c.sample))
        row: dict[str, Any] = next(iter(suite.score([pair])))
    else:
        ids = sample.payload.instruction_ids
        row = {
            "key": sample.key,
            "prompt": sample.prompt,
            "response": None,
            "instructions": [{"id": i, "strict": None, "loose": None, "reason": c.error} for i in ids],
            "verdict": c.error_verdict().to_dict(),
            "error": c.error,
            "error_kind": c.error_kind,
        }
    row["sample"] = c.sample
    return row


@pytest.mark.skipif(not (DATA / "reference_verdicts.jsonl").exists(), reason="shared IFEval data not present")
def test_transient_errors_end_in_results_and_permanent_ones_in_unscorable_rows(tmp_path: Path) -> None:
    suite = get_suite("ifeval")
    samples = suite.load(str(DATA / "input_data.jsonl"))[:N_PROMPTS]
    answers = {}
    for line in (DATA / "input_response_data_gpt4_20231107_145030.jsonl").read_text().splitlines():
        row = json.loads(line)
        answers[row["prompt"]] = row["response"]
    reference = {}
    for line in (DATA / "reference_verdicts.jsonl").read_text().splitlines():
        ref = json.loads(line)
        reference[ref["key"]] = ref["strict"]

    def responder(request: SeenRequest) -> Reply:
        return Reply.ok(answers[request.prompt])

    flaky = [Reply.error(500), Reply.rate_limited(0.01), Reply.truncated(), Reply.hang(5)]
    refused, down = samples[3].prompt, samples[4].prompt
    script: dict[str, list[Reply | str]] = {
        samples[0].prompt: [*flaky, Reply.ok(answers[samples[0].prompt])],
        samples[1].prompt: [Reply.invalid_json(), Reply.ok(answers[samples[1].prompt])],
        refused: [Reply.error(400, "prompt rejected by the content filter")],
        down: [Reply.error(503, "overloaded")],
    }
    by_key = {s.key: s for s in samples}
    retry = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.02)

    def run(server: FakeModelServer) -> list[dict[str, Any]]:
        gen = OpenAIGenerator(
            "fake",
            base_url=server.base_url,
            concurrency=8,
            timeout=0.5,
            retry=retry,
            cache=ResponseCache(tmp_path / "cache.sqlite"),
        )
        requests = [Request(s.prompt, i, s.key) for s in samples for i in range(N_SAMPLES)]

        async def collect() -> list[dict[str, Any]]:
            return [result_row(suite, by_key[c.id], c) async for c in gen.stream(requests, GenParams(seed=0))]

        return asyncio.run(collect())

    with FakeModelServer(script, responder=responder) as server:
        rows = run(server)
        first_count = server.request_count
        again = run(server)  # a resumed or repeated run: every success is a cache hit
        # Only the failed samples are asked again: the refused ones once, the exhausted ones up to the budget.
        assert server.request_count - first_count == N_SAMPLES * (1 + retry.max_attempts)

    assert len(rows) == N_PROMPTS * N_SAMPLES
    errors = {(r["key"], r["sample"]): r for r in rows if r.get("error")}
    assert set(errors) == {(samples[i].key, s) for i in (3, 4) for s in range(N_SAMPLES)}
    assert {r["error_kind"] for k, r in errors.items() if k[0] == samples[3].key} == {"permanent"}
    assert {r["error_kind"] for k, r in errors.items() if k[0] == samples[4].key} == {"exhausted"}
    for row in rows:  # every generated sample is scored exactly as the reference scored that response
        if not row.get("error"):
            assert [i["strict"] for i in row["instructions"]] == reference[row["key"]], row["key"]

    summary = suite.summarize(rows)
    stats = run_statistics(rows, summary, n_resamples=200)
    prompt_strict = stats.metric("prompt_strict")
    assert prompt_strict is not None and prompt_strict.excluded == 2 * N_SAMPLES
    assert stats.unscorable_rows == 2 * N_SAMPLES
    kept = [k for k in (s.key for s in samples) if k not in {samples[3].key, samples[4].key}]
    expected = sum(all(reference[k]) for k in kept) / len(kept)
    assert prompt_strict.interval.estimate == pytest.approx(expected)  # not diluted by zeros
    assert summary["prompt_strict"] == pytest.approx(expected)
    ok_again = sorted((r["key"], r["sample"]) for r in again if not r.get("error"))
    assert ok_again == sorted((r["key"], r["sample"]) for r in rows if not r.get("error"))
