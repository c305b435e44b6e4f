"""The verl adapter called the way verl 0.9.1's reward managers call ``compute_score``
(read from verl's source: ``verl/workers/reward_manager/{naive,dapo,prime,batch}.py``,
``verl/experimental/reward_loop/reward_manager/naive.py`` and ``verl/trainer/ppo/reward.py``)."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any

import numpy as np
import pytest

import adhere.integrations.verl as verl_adapter
from adhere.integrations.verl import KEYS, compute_score, compute_score_async, compute_score_batch, compute_score_prime
from adhere.rewards import verpo

NO_COMMA = json.dumps({"spec": {"check": "punctuation.no_comma"}})
IFEVAL_ROW = {
    "instruction_id_list": ["length_constraints:number_words"],
    "kwargs": [{"num_words": 3, "relation": "at least"}],
}


def call_with_kwargs(raw_fn: Callable[..., Any], extra_kwargs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    """verl's wrapper around a custom reward function: config reward_kwargs merged into every call."""
    return raw_fn(*args, **{**kwargs, **extra_kwargs})


def load_like_verl(path: str, name: str, reward_kwargs: dict[str, Any]) -> Callable[..., Any]:
    """``load_extern_object`` (``pkg://module`` or a file path) + the ``partial`` verl builds."""
    if path.startswith("pkg://"):
        module: Any = importlib.import_module(path[len("pkg://") :].replace("/", "."))
    else:
        spec = importlib.util.spec_from_file_location(f"custom_module_{hash(os.path.abspath(path))}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return partial(call_with_kwargs, getattr(module, name), reward_kwargs)


def naive_manager(fn: Callable[..., Any], rows: list[dict[str, Any]]) -> tuple[list[float], dict[str, list[Any]]]:
    """The per-sample loop of the naive/dapo managers: keyword call, dict → score + every key appended."""
    rewards: list[float] = []
    extra: defaultdict[str, list[Any]] = defaultdict(list)
    for row in rows:
        info = dict(row.get("extra_info", {}))
        info["num_turns"] = None
        info["rollout_reward_scores"] = {}
        score = fn(
            data_source=row["data_source"], solution_str=row["response"], ground_truth=row["gt"], extra_info=info
        )
        if isinstance(score, dict):
            rewards.append(float(score["score"]))
            for key, value in score.items():
                extra[key].append(value)
        else:
            rewards.append(float(score))
    for key, values in extra.items():  # verl asserts this when it logs validation metrics
        assert len(values) == len(rewards), key
    return rewards, dict(extra)


ROWS = [
    {"data_source": "ifeval", "response": "no commas", "gt": NO_COMMA},
    {"data_source": "ifeval", "response": "a, b", "gt": NO_COMMA},
    {"data_source": "ifeval", "response": "one two three", "gt": IFEVAL_ROW},
    {
        "data_source": "code",
        "response": "def f(x):\n    return x\n",
        "gt": {"inputs": [[1]], "outputs": [1], "fn_name": "f"},
    },
    {"data_source": "bad", "response": "x", "gt": "{not json"},
]


@pytest.mark.parametrize("path", ["pkg://adhere.integrations.verl", verl_adapter.__file__])
def test_naive_and_dapo_managers(path: str) -> None:
    fn = load_like_verl(path, "compute_score", {"unscorable_value": -0.5})
    rewards, extra = naive_manager(fn, ROWS)
    assert set(extra) == set(KEYS)
    assert rewards[:3] == [1.0, 0.0, 1.0]
    assert extra["acc"][:3] == [1.0, 0.0, 1.0]
    assert rewards[4] == -0.5 and extra["unscorable"][4] == 1.0  # malformed label: the fallback, flagged
    assert "must be JSON" in extra["reason"][4]
    assert rewards[3] == 1.0 and extra["unscorable"][3] == 0.0  # code tests run in the sandbox
    assert all(isinstance(v, float) for k in ("score", "acc", "unscorable") for v in extra[k])


def test_reward_kwargs_choose_the_reward_and_typos_fail_loudly() -> None:
    fn = load_like_verl("pkg://adhere.integrations.verl", "compute_score", {"reward": {"binary": {"fail": -1}}})
    assert naive_manager(fn, ROWS[:2])[0] == [1.0, -1.0]
    bad = load_like_verl("pkg://adhere.integrations.verl", "compute_score", {"unscorable_valeu": 0})
    with pytest.raises(TypeError, match="unscorable_valeu"):
        naive_manager(bad, ROWS[:1])
    # keyword arguments verl adds on its own are accepted
    assert (
        compute_score("s", "a b", NO_COMMA, None, reward_router_address=None, sandbox_fusion_url=None)["score"] == 1.0
    )


class ConfigMapping(Mapping[str, Any]):
    """Stands in for OmegaConf's DictConfig (a Mapping that is not a dict)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        if isinstance(value, dict):
            return ConfigMapping(value)
        if isinstance(value, list):
            return ConfigList(value)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class ConfigList(Sequence[Any]):
    """Stands in for OmegaConf's ListConfig (a Sequence that is not a list)."""

    def __init__(self, data: list[Any]) -> None:
        self._data = data

    def __getitem__(self, i: Any) -> Any:
        value = self._data[i]
        return ConfigMapping(value) if isinstance(value, dict) else value

    def __len__(self) -> int:
        return len(self._data)


def test_hydra_style_reward_kwargs_and_parquet_ground_truth() -> None:
    reward = ConfigMapping({"sum": ["binary", {"overlong": {"max_length": 10, "buffer": 5, "unit": "chars"}}]})
    gt = {"instruction_id_list": np.array(["punctuation:no_comma"], dtype=object), "kwargs": np.array([{}])}
    out = compute_score("ifeval", "abcdefgh", gt, {"index": 3}, reward=reward)
    assert out["score"] == pytest.approx(1.0 - 0.6)


def test_prime_manager_positional_in_a_process_pool() -> None:
    """prime: ``partial(evaluation_func, task, completion, reference, task_extra_info)`` run in a
    ProcessPoolExecutor (so the function is pickled), result must be a number or a sequence."""
    fn = load_like_verl("pkg://adhere.integrations.verl", "compute_score_prime", {})

    async def run() -> list[Any]:
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(max_workers=2) as pool:
            futures = [
                loop.run_in_executor(pool, partial(fn, row["data_source"], row["response"], row["gt"], None))
                for row in ROWS[:3]
            ]
            return await asyncio.gather(*futures)

    results = asyncio.run(run())
    assert all(isinstance(r, float) for r in results)  # prime does float(result) for numbers
    assert results == [1.0, 0.0, 1.0]
    assert inspect.signature(compute_score_prime).parameters.keys() >= {"data_source", "solution_str", "ground_truth"}


def test_batch_manager_plural_form_with_groups() -> None:
    fn = load_like_verl("pkg://adhere.integrations.verl", "compute_score_batch", {"reward": "verpo"})
    # two prompts (dataset index 0 and 1), two responses each; instruction units as VeRPO tests
    gt = json.dumps(
        {
            "instruction_id_list": ["punctuation:no_comma", "length_constraints:number_words"],
            "kwargs": [{}, {"num_words": 3, "relation": "at least"}],
        }
    )
    responses = ["a b c", "a, b", "a b", "a, b, c"]
    scores = fn(
        data_sources=np.array(["ifeval"] * 4, dtype=object),
        solution_strs=responses,
        ground_truths=[gt] * 4,
        extra_infos=[{"index": 0, "rollout_reward_scores": {}}, {"index": 0}, {"index": 1}, {"index": 1}],
    )
    assert [set(s) for s in scores] == [set(KEYS)] * 4
    g0, g1 = verpo([[[1, 1]], [[0, 0]]]), verpo([[[1, 0]], [[0, 1]]])
    expected = [
        g0.outcomes[0] + g0.turn_rewards[0][0],
        g0.outcomes[1] + g0.turn_rewards[1][0],
        g1.outcomes[0] + g1.turn_rewards[0][0],
        g1.outcomes[1] + g1.turn_rewards[1][0],
    ]
    assert [s["score"] for s in scores] == pytest.approx(expected)
    with pytest.raises(ValueError, match="equal lengths"):
        compute_score_batch(["a"], ["x", "y"], [NO_COMMA, NO_COMMA], None)


def test_reward_loop_awaits_the_async_form() -> None:
    assert inspect.iscoroutinefunction(compute_score_async)  # how the reward-loop managers decide to await

    async def run() -> dict[str, Any]:
        return await compute_score_async(data_source="s", solution_str="a, b", ground_truth=NO_COMMA, extra_info={})

    out = asyncio.run(run())
    assert out == compute_score("s", "a, b", NO_COMMA, {})
    assert out["score"] == 0.0 and out["unscorable"] == 0.0


def test_unscorable_value_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADHERE_UNSCORABLE_VALUE", "-2")
    assert compute_score("s", "x", "{bad", None)["score"] == -2.0
    monkeypatch.setenv("ADHERE_UNSCORABLE_VALUE", "lots")
    with pytest.raises(ValueError, match="ADHERE_UNSCORABLE_VALUE"):
        compute_score("s", "x", "{bad", None)
