"""Ray scale-out gives the same verdicts as the local path, on a real local Ray instance."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::ResourceWarning")

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
        assert got["outcome"] == want.outcome and got["reward"] == want.score


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
