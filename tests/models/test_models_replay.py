"""``replay:FILE`` on real reference data and on our own generations records."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from adhere.errors import DatasetError
from adhere.models import Completion, GenParams, ReplayGenerator, Request, open_generator
from adhere.testing import FakeModelServer, Reply

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
IFEVAL_RESPONSES = DATA / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl"


@pytest.mark.skipif(not IFEVAL_RESPONSES.exists(), reason="shared IFEval data not present")
def test_replays_every_ifeval_response_by_prompt_text() -> None:
    rows = [json.loads(line) for line in IFEVAL_RESPONSES.read_text().splitlines() if line.strip()]
    gen = open_generator(f"replay:{IFEVAL_RESPONSES}")
    assert isinstance(gen, ReplayGenerator)
    out = gen.generate([r["prompt"] for r in rows])
    assert len(out) == len(rows) == 541
    assert [o[0].text for o in out] == [r["response"] for r in rows]
    assert all(o[0].ok and o[0].model == f"replay:{IFEVAL_RESPONSES}" for o in out)
    # Whitespace around a prompt still finds its response.
    [[padded]] = gen.generate(["  " + rows[7]["prompt"] + "\n"])
    assert padded.text == rows[7]["response"]


def test_missing_prompt_or_sample_is_a_recorded_permanent_error(tmp_path: Path) -> None:
    path = tmp_path / "responses.jsonl"
    path.write_text('{"prompt": "known", "response": "yes"}\n')
    [[hit, missing_sample], [unknown, _]] = ReplayGenerator(path).generate(["known", "unknown"], n=2)
    assert hit.text == "yes"
    assert missing_sample.error_kind == "permanent" and "sample 1" in (missing_sample.error or "")
    assert unknown.error_kind == "permanent" and unknown.error_verdict().unscorable


def test_keys_samples_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    path.write_text(
        '{"task_id": "HumanEval/0", "completion": "return 1"}\n'
        "not json at all\n"
        '{"task_id": "HumanEval/0", "completion": "return 2"}\n'
        '{"task_id": "HumanEval/1", "solution": "def f(): pass", "sample": 3}\n'
        '{"task_id": "HumanEval/2"}\n'
    )
    gen = ReplayGenerator(path)
    assert len(gen.problems) == 2 and ":2:" in gen.problems[0] and ":5:" in gen.problems[1]
    requests = [
        Request("ignored", 0, "HumanEval/0"),
        Request("ignored", 1, "HumanEval/0"),
        Request("x", 3, "HumanEval/1"),
    ]

    async def collect() -> dict[tuple[str, int], str]:
        return {(c.id, c.sample): c.text async for c in gen.stream(requests)}

    import asyncio

    assert asyncio.run(collect()) == {
        ("HumanEval/0", 0): "return 1",
        ("HumanEval/0", 1): "return 2",
        ("HumanEval/1", 3): "def f(): pass",
    }


def test_unreadable_or_empty_files_raise_dataset_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="cannot read"):
        ReplayGenerator(tmp_path / "absent.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n[1, 2]\n")
    with pytest.raises(DatasetError, match="no usable response rows"):
        ReplayGenerator(empty)


def test_generations_records_round_trip_through_replay(tmp_path: Path) -> None:
    """Completion.to_dict rows (a generations.jsonl) replay to the same completions,
    with reasoning re-strippable and recorded errors still errors."""
    script = {"think": [Reply.ok("<think>hmm</think>Final.")], "broken": [Reply.error(400, "too long")]}
    with FakeModelServer(script) as server:
        gen = open_generator("openai:fake", base_url=server.base_url)
        first = gen.generate(["think about it", "broken prompt", "plain"], n=2, params=GenParams(seed=1))
    path = tmp_path / "generations.jsonl"
    path.write_bytes(b"".join(orjson.dumps(c.to_dict()) + b"\n" for row in first for c in row))
    again = ReplayGenerator(path, strip_think=True).generate(["think about it", "broken prompt", "plain"], n=2)
    for row_a, row_b in zip(first, again, strict=True):
        for a, b in zip(row_a, row_b, strict=True):
            assert isinstance(b, Completion)
            assert (a.raw, a.ok, a.sample) == (b.raw, b.ok, b.sample)
    assert again[0][0].text == "Final." and first[0][0].text == "<think>hmm</think>Final."
    assert again[1][0].error_kind == "permanent" and "too long" in (again[1][0].error or "")
