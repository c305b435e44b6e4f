"""Ray scale-out gives the same verdicts as the local path, on a real local Ray instance."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::ResourceWarning"
)

ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'adhere[ray]'")

from adhere.integrations.ray import verify_dataset  # noqa: E402
from adhere.spec import Spec  # noqa: E402
from adhere.verdict import Verdict  # noqa: E402


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


NO_COMMA = {"check": "punctuation.no_comma"}


def _rows() -> list[dict[str, Any]]:
    texts = ["plain text", "a, b", "", "x" * 10000 + ",", "\u0000binary\ufffd", "one, two, three"]
    return [{"response": t, "prompt": f"p{i}"} for i, t in enumerate(texts * 20)]


def test_one_spec_for_all_rows_matches_the_local_path(local_ray: None) -> None:
    rows = _rows()
    spec = {"all": [NO_COMMA, {"not": NO_COMMA}]}
    out = verify_dataset(ray.data.from_items(rows), spec, concurrency=2, batch_size=16).take_all()
    local = Spec.parse(spec)
    assert len(out) == len(rows)
    by_prompt = {r["prompt"]: r for r in out}
    for row in rows:
        got = by_prompt[row["prompt"]]
        want = local.evaluate(row["response"])
        assert Verdict.from_dict(json.loads(got["verdict"])) == want
        assert got["outcome"] == want.outcome
        assert got["reward"] == (1.0 if want.passed else 0.0)  # the default reward is binary


def test_per_row_specs_and_bad_rows_are_unscorable_not_fatal(local_ray: None) -> None:
    rows = [
        {"response": "a, b", "prompt": "", "spec": json.dumps(NO_COMMA)},
        {"response": "ab", "prompt": "", "spec": json.dumps({"not": NO_COMMA})},
        {"response": "ab", "prompt": "", "spec": json.dumps({"check": "punctuation.no_coma"})},
    ]
    out = verify_dataset(ray.data.from_items(rows), concurrency=1).take_all()
    assert [r["outcome"] for r in out] == ["fail", "fail", "unscorable"]
    assert out[2]["reward"] is None
    assert "did you mean" in json.loads(out[2]["verdict"])["reason"]


SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def test_ifeval_shared_data_same_verdicts_as_the_local_path(local_ray: None) -> None:
    """All 541 IFEval prompts with the GPT-4 responses, as IFEval-row labels: Ray == local."""
    from adhere.labels import judge_labels, parse_label

    data = [json.loads(x) for x in (SHARED / "ifeval" / "input_data.jsonl").read_text().splitlines() if x]
    responses = {}
    for x in (SHARED / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl").read_text().splitlines():
        if x:
            r = json.loads(x)
            responses[r["prompt"]] = r["response"]
    rows = [
        {
            "key": d["key"],
            "prompt": d["prompt"],
            "response": responses[d["prompt"]],
            "label": json.dumps({"instruction_id_list": d["instruction_id_list"], "kwargs": d["kwargs"]}),
        }
        for d in data
    ]
    out = verify_dataset(ray.data.from_items(rows), concurrency=2, batch_size=64).take_all()
    local = judge_labels([(parse_label(r["label"]), r["response"], r["prompt"]) for r in rows])
    got = {r["key"]: Verdict.from_dict(json.loads(r["verdict"])) for r in out}
    assert len(got) == len(rows) == 541
    for row, want in zip(rows, local, strict=True):
        assert got[row["key"]] == want, row["key"]
    strict_pass = sum(v.passed for v in got.values())
    assert strict_pass == 417  # IFEval's prompt-level strict on these responses: 417/541
