"""Arbitrary input never crashes the parsers or the adapters: a SpecError with a path, or a value."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adhere import SpecError
from adhere.integrations.openrlhf import get_reward
from adhere.integrations.trl import reward_func
from adhere.integrations.verl import compute_score
from adhere.labels import Label, parse_label
from adhere.rewards import REWARD_KINDS, Reward, parse_reward

scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=True) | st.text(max_size=12)
keys = st.sampled_from(
    [*REWARD_KINDS, "spec", "tests", "instruction_id_list", "kwargs", "inputs", "outputs", "fn_name", "asserts",
     "reward", "part", "weight", "threshold", "base", "bonus", "floor", "preset", "check", "params", "mode", "x"]
)  # fmt: skip
json_like = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=12
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_like)
def test_parse_reward_returns_a_reward_or_a_spec_error(raw: Any) -> None:
    try:
        r = parse_reward(raw)
    except SpecError as exc:
        assert exc.path.startswith("reward")
    else:
        assert isinstance(r, Reward)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_like | st.text(max_size=30))
def test_parse_label_returns_a_label_or_a_spec_error(raw: Any) -> None:
    try:
        label = parse_label(raw)
    except SpecError as exc:
        assert exc.path.startswith("label")
    else:
        assert isinstance(label, Label)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(json_like, st.text(max_size=200)), min_size=1, max_size=4))
def test_adapters_answer_every_row(rows: list[tuple[Any, str]]) -> None:
    labels = [json.dumps(label, default=str) for label, _ in rows]
    responses = [r for _, r in rows]
    trl_values = reward_func()(prompts=["p"] * len(rows), completions=responses, label=labels)
    assert len(trl_values) == len(rows)
    assert all(v is None or math.isfinite(v) for v in trl_values)
    out = get_reward({"query": responses, "prompts": [""] * len(rows), "labels": labels}, unscorable_value=-9.0)
    for trl_value, value, flag in zip(trl_values, out["rewards"], out["extra_logs"]["unscorable"], strict=True):
        assert (trl_value is None) == (flag == 1.0)  # the same rows are unscorable in both adapters
        assert value == (-9.0 if trl_value is None else trl_value)
    for label, response in zip(labels, responses, strict=True):
        d = compute_score("fuzz", response, label, None)
        assert set(d) == {"score", "acc", "unscorable", "reason"} and math.isfinite(d["score"])


def test_huge_and_binary_responses() -> None:
    label = {"instruction_id_list": ["punctuation:no_comma", "length_constraints:number_words"],
             "kwargs": [{}, {"num_words": 10, "relation": "at least"}]}  # fmt: skip
    huge = "word " * 200_000
    binary = bytes(range(256)).decode("latin-1") * 100
    values = reward_func("ifeval")(
        prompts=["p", "p"], completions=[huge, binary], instruction_id_list=[label["instruction_id_list"]] * 2,
        kwargs=[label["kwargs"]] * 2,
    )  # fmt: skip
    assert values == [1.0, 0.0]
