"""Reward declarations: JSON/YAML like specs, validated whole, errors that name the path."""

from __future__ import annotations

from typing import Any

import pytest

from adhere import SpecError, Verdict
from adhere.rewards import REWARD_KINDS, Rollout, parse_reward

DECLARATIONS: list[Any] = [
    "binary",
    {"binary": {"pass": 2, "fail": -1}},
    "fraction",
    {"fraction": {"unscorable": "skip"}},
    "score",
    {"select": {"part": "answer", "reward": "binary"}},
    {"evidence": {"key": "rating", "low": 0, "high": 10}},
    {"levels": {"key": "patch", "values": {"none": -1, "passing": 1}}},
    {"sum": ["binary", {"overlong": {"max_length": 100, "buffer": 10}}]},
    {"weighted": [{"weight": 0.5, "reward": "binary"}, {"weight": 2, "reward": "fraction"}]},
    {"weighted": {"parts": [{"weight": 1, "reward": "binary"}], "normalize": True}},
    {"gated": [{"reward": "binary", "threshold": 1}, {"reward": "fraction"}]},
    {"base_bonus": {"base": "binary", "bonus": "fraction", "preset": "cme"}},
    {"base_bonus": {"base": "binary", "bonus": "fraction", "floor": 0.25}},
    {"format_gate": {"spec": {"check": "punctuation.no_comma"}, "reward": "binary", "fail": -1}},
    {"format_gate": {"part": "format", "reward": "binary"}},
    {"overlong": {"max_length": 4096, "buffer": 512, "penalty": 0.5, "unit": "chars"}},
    "acecode",
    {"acecode": {"ref_time": 0.5, "runtime_error": -0.5}},
    "verpo",
    {"verpo": {"alpha": 1.0, "output": "advantage"}},
]

VERDICTS = [
    Verdict.of("all", True, children=(Verdict.of("a", True), Verdict.of("b", True)), evidence={"time_s": 0.2}),
    Verdict.of("all", False, children=(Verdict.of("a", True), Verdict.of("b", False))),
    Verdict.of("all", None, children=(Verdict.of("a", None),)),
]


@pytest.mark.parametrize("decl", DECLARATIONS, ids=lambda d: str(d)[:40])
def test_declaration_round_trips(decl: Any) -> None:
    r = parse_reward(decl)
    again = parse_reward(r.to_dict())
    assert again.to_dict() == r.to_dict()
    rollouts = [Rollout(v, response="a, b", length=50, group="g") for v in VERDICTS]
    assert again.score_batch(rollouts) == r.score_batch(rollouts)


def test_every_built_in_kind_has_a_declaration_test() -> None:
    used = {next(iter(d)) if isinstance(d, dict) else d for d in DECLARATIONS}
    assert used == set(REWARD_KINDS)


def test_json_and_yaml_text() -> None:
    assert parse_reward('{"binary": {"fail": -1}}').to_dict() == {"binary": {"fail": -1.0}}
    yaml_text = "sum:\n  - binary\n  - overlong:\n      max_length: 100\n      buffer: 20\n"
    r = parse_reward(yaml_text)
    assert r(Rollout(Verdict.of("x", True), length=90)) == pytest.approx(0.5)


BAD: list[tuple[Any, str, str]] = [
    ("binray", "reward", "did you mean 'binary'"),
    ({"binary": {"pas": 1}}, "reward.binary.pas", "Extra inputs"),
    ({"binary": {"pass": "high"}}, "reward.binary.pass", "valid number"),
    ({"binary": {}, "fraction": {}}, "reward", "exactly one key"),
    ({"sum": []}, "reward.sum", "non-empty list"),
    ({"sum": ["binary", "frac"]}, "reward.sum[1]", "unknown reward kind 'frac'"),
    ({"weighted": [{"weight": "x", "reward": "binary"}]}, "reward.weighted[0].weight", "expected a number"),
    ({"weighted": [{"wieght": 1, "reward": "binary"}]}, "reward.weighted[0]", "unexpected key"),
    ({"gated": [{"reward": "binary"}, {"reward": "binary"}]}, "reward.gated[0]", "needs ['threshold']"),
    ({"base_bonus": {"base": "binary", "bonus": "binary"}}, "reward.base_bonus", "exactly one of 'floor'"),
    ({"base_bonus": {"base": "binary", "bonus": "binary", "preset": "xyz"}}, "reward.base_bonus.preset", "cme"),
    ({"base_bonus": {"base": "binary", "bonus": "binary", "floor": 2}}, "reward.base_bonus.floor", "[0.0, 1.0]"),
    ({"base_bonus": {"base": "binry", "bonus": "binary", "floor": 0}}, "reward.base_bonus.base", "binary"),
    ({"overlong": {"max_length": 10, "buffer": 20}}, "reward.overlong", "must not exceed"),
    ({"overlong": {"unit": "bytes"}}, "reward.overlong.unit", "tokens"),
    ({"format_gate": {"reward": "binary", "spec": {"check": "nope.nope"}}}, "reward.format_gate.spec.check", "unknown"),
    ({"format_gate": {"reward": "binary"}}, "reward.format_gate", "exactly one of 'spec'"),
    ({"select": {"part": 3, "reward": "binary"}}, "reward.select", "part"),
    ({"evidence": {"key": "r", "low": 5, "high": 1}}, "reward.evidence", "greater than low"),
    ({"verpo": {"sigma": 0}}, "reward.verpo.sigma", "greater than 0"),
    ({"levels": {"key": "k", "values": {}}}, "reward.levels.values", "at least 1"),
    (42, "reward", "kind name or an object"),
    ("{not json: [", "reward", "neither valid JSON nor YAML"),
]


@pytest.mark.parametrize(("decl", "path", "fragment"), BAD, ids=[str(b[0])[:40] for b in BAD])
def test_bad_declarations_name_the_path(decl: Any, path: str, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_reward(decl)
    assert info.value.path == path
    assert fragment in str(info.value)
