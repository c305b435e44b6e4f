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


def _untimed(tree: dict[str, Any]) -> dict[str, Any]:
    """A verdict tree without its measured times (the only part two runs may not share)."""
    out = {k: v for k, v in tree.items() if k not in ("evidence", "children")}
    out["evidence"] = {k: v for k, v in tree.get("evidence", {}).items() if k not in ("time_s", "duration")}
    out["children"] = [_untimed(c) for c in tree.get("children", [])]
    return out


def test_humaneval_code_labels_same_verdicts_as_the_local_path(local_ray: None) -> None:
    """HumanEval's 164 canonical solutions and one model's 164 greedy programs (Mistral-7B-Instruct-v0.2
    in EvalPlus' archive: passes, failures, errors and three infinite loops), as code-test labels
    running HumanEval's own ``check``: every verdict tree from Ray equals the local one."""
    import gzip

    from adhere.labels import judge_labels, parse_label
    from adhere.sandbox import LocalExecutor

    with gzip.open(SHARED / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as f:
        problems = {p["task_id"]: p for p in map(json.loads, f)}
    with gzip.open(SHARED / "evalplus" / "evalplus_greedy_samples_labeled.jsonl.gz", "rt", encoding="utf-8") as f:
        llm = [
            r
            for r in map(json.loads, f)
            if r["dataset"] == "humaneval" and r["model"] == "mistralai--Mistral-7B-Instruct-v0.2_vllm_temp_0.0"
        ]
    assert len(llm) == 164

    def label(task_id: str) -> str:
        p = problems[task_id]
        # 0.5 s of CPU per test: these programs finish in under 0.1 s, and the loops are stopped sooner
        return json.dumps({"tests": {"setup": p["test"], "asserts": [f"check({p['entry_point']})"], "timeout": 0.5}})

    rows = [
        {
            "key": f"canonical {t}",
            "prompt": "",
            "label": label(t),
            "response": f"```python\n{p['prompt']}{p['canonical_solution']}\n```",
        }
        for t, p in problems.items()
    ] + [
        {
            "key": f"llm {r['task_id']}",
            "prompt": "",
            "label": label(r["task_id"]),
            "response": f"```python\n{r['solution']}\n```",
        }
        for r in llm
    ]
    out = verify_dataset(ray.data.from_items(rows), concurrency=2, batch_size=82, sandbox_workers=2).take_all()
    with LocalExecutor(workers=2) as executor:
        local = judge_labels([(parse_label(r["label"]), r["response"], r["prompt"]) for r in rows], executor=executor)
    got = {r["key"]: json.loads(r["verdict"]) for r in out}
    assert len(got) == len(rows) == 328
    for row, want in zip(rows, local, strict=True):
        assert _untimed(got[row["key"]]) == _untimed(want.to_dict()), row["key"]
    statuses = [v.evidence.get("status") for v in local[164:]]
    assert all(v.passed for v in local[:164])  # every canonical solution passes HumanEval's check
    assert {s: statuses.count(s) for s in set(statuses)} == {"passed": 73, "failed": 62, "error": 26, "timeout": 3}
