"""The TRL adapter called exactly the way TRL 1.16.0's ``GRPOTrainer._calculate_rewards`` calls
reward functions (keyword arguments, repeated dataset columns, sync and async paths, None → NaN).
The real trainer runs in ``test_trl_grpo.py`` (slow)."""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import math
import pickle
import threading
from collections.abc import Callable
from typing import Any

import pytest

from adhere import Spec, SpecError
from adhere.integrations.trl import AsyncTRLReward, TRLReward, reward_func
from adhere.rewards import verpo


def callable_name(func: Callable[..., Any]) -> str:
    """How TRL names a reward function (``trl.trainer.utils.get_callable_name``)."""
    while isinstance(func, functools.partial):
        func = func.func
    return str(getattr(func, "__name__", type(func).__name__))


def is_async(func: Callable[..., Any]) -> bool:
    """How TRL tells an async reward function (``trl.trainer.utils.is_async_callable``)."""
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(func.__call__)  # type: ignore[operator]


class FakeTrainerState:
    global_step = 3


def call_like_grpo(
    funcs: list[Callable[..., Any]],
    inputs: list[dict[str, Any]],
    completions: list[Any],
    completion_ids: list[list[int]],
) -> tuple[list[list[float]], dict[str, list[float]]]:
    """One reward step as ``_calculate_rewards`` does it: columns but prompt/completion repeated as lists,
    trainer_state/log_extra/log_metric added, sync funcs called in turn, async ones gathered on a loop
    running in another thread; None becomes NaN; the length is checked."""
    prompts = [x["prompt"] for x in inputs]
    keys = [k for k in inputs[0] if k not in ("prompt", "completion", "completion_ids")]
    reward_kwargs: dict[str, Any] = {k: [x[k] for x in inputs] for k in keys}
    metrics: dict[str, list[float]] = {}
    extra: dict[str, list[Any]] = {}
    reward_kwargs["trainer_state"] = FakeTrainerState()
    reward_kwargs["log_extra"] = lambda column, values: extra.setdefault(column, []).extend(values)
    reward_kwargs["log_metric"] = lambda name, value: metrics.setdefault(name, []).append(value)
    columns: list[list[float]] = [[] for _ in funcs]
    pending = []
    for i, f in enumerate(funcs):
        if is_async(f):
            pending.append((i, f))
            continue
        out = f(prompts=prompts, completions=completions, completion_ids=completion_ids, **reward_kwargs)
        assert len(out) == len(prompts)
        columns[i] = [math.nan if r is None else float(r) for r in out]
    if pending:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()

        async def run_all() -> list[Any]:
            return await asyncio.gather(
                *(
                    f(prompts=prompts, completions=completions, completion_ids=completion_ids, **reward_kwargs)
                    for _, f in pending
                )
            )

        try:
            results = asyncio.run_coroutine_threadsafe(run_all(), loop).result(timeout=60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()
        for (i, _), out in zip(pending, results, strict=True):
            assert len(out) == len(prompts)
            columns[i] = [math.nan if r is None else float(r) for r in out]
    return columns, metrics


DENSE = {"num_words": None, "relation": None, "num_highlights": None, "first_word": None}


def ifeval_rows(n_gen: int = 2) -> list[dict[str, Any]]:
    """Two IFEval-style prompts (hub format: dense kwargs), each repeated n_gen times as GRPO does."""
    rows = [
        {
            "key": 1,
            "prompt": "Answer without commas.",
            "instruction_id_list": ["punctuation:no_comma"],
            "kwargs": [dict(DENSE)],
        },
        {
            "key": 2,
            "prompt": "Write at least 5 words and no commas.",
            "instruction_id_list": ["length_constraints:number_words", "punctuation:no_comma"],
            "kwargs": [{**DENSE, "num_words": 5, "relation": "at least"}, dict(DENSE)],
        },
    ]
    return [dict(r) for r in rows for _ in range(n_gen)]


COMPLETIONS = ["no commas here", "yes, a comma", "one two three four five", "one, two"]
IDS = [[1] * 3, [1] * 4, [1] * 5, [1] * 2]


def test_standard_format_ifeval_columns() -> None:
    fn = reward_func("ifeval")
    assert callable_name(fn) == "adhere_ifeval" and not is_async(fn)
    (values,), metrics = call_like_grpo([fn], ifeval_rows(), COMPLETIONS, IDS)
    assert values == [1.0, 0.0, 1.0, 0.0]
    assert metrics == {"adhere/adhere_ifeval/unscorable_frac": [0.0]}


def test_fraction_reward_and_loose_mode() -> None:
    fn = reward_func("ifeval", reward="fraction", name="ifeval_frac", mode="loose")
    assert callable_name(fn) == "ifeval_frac"
    (values,), _ = call_like_grpo([fn], ifeval_rows(), COMPLETIONS, IDS)
    assert values == [1.0, 0.0, 1.0, 0.0]  # "one, two": fewer than 5 words and a comma → 0 of 2
    (values,), _ = call_like_grpo([fn], ifeval_rows(), [*COMPLETIONS[:3], "a b c d e, f"], IDS)
    assert values[3] == 0.5  # enough words, but a comma


def test_conversational_completions() -> None:
    rows = ifeval_rows()
    for r in rows:
        r["prompt"] = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": r["prompt"]}]
    completions = [
        [{"role": "assistant", "content": "no commas here"}],
        [{"role": "assistant", "content": [{"type": "text", "text": "yes, "}, {"type": "text", "text": "a comma"}]}],
        [{"role": "assistant", "content": "one two three four five"}],
        [{"role": "assistant", "content": "one, two"}],
    ]
    (values,), _ = call_like_grpo([reward_func("ifeval")], rows, completions, IDS)
    assert values == [1.0, 0.0, 1.0, 0.0]


def test_async_variant_runs_on_the_trainer_loop_alongside_sync() -> None:
    sync_fn, async_fn = reward_func("ifeval"), reward_func("ifeval", asynchronous=True, name="adhere_ifeval_async")
    assert isinstance(async_fn, AsyncTRLReward) and is_async(async_fn) and not is_async(sync_fn)
    (sync_values, async_values), _ = call_like_grpo([sync_fn, async_fn], ifeval_rows(), COMPLETIONS, IDS)
    assert sync_values == async_values == [1.0, 0.0, 1.0, 0.0]


def test_label_column_with_per_row_rewards_and_a_bad_row(caplog: pytest.LogCaptureFixture) -> None:
    rows = [
        {"prompt": "p1", "label": json.dumps({"spec": {"check": "punctuation.no_comma"}})},
        {"prompt": "p1", "label": {"spec": {"check": "punctuation.no_comma"}, "reward": {"binary": {"fail": -1}}}},
        {"prompt": "p2", "label": '{"spec": {"check": "no.such_check"}}'},
        {"prompt": "p3", "label": {"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}},
    ]
    fn = reward_func()
    assert callable_name(fn) == "adhere_label"
    with caplog.at_level(logging.WARNING, logger="adhere.rewards"):
        (values,), metrics = call_like_grpo([fn], rows, ["a, b", "a, b", "fine", "fine"], [[1]] * 4)
    assert values[:2] == [0.0, -1.0]
    assert math.isnan(values[2])  # malformed label: unscorable (NaN in TRL), not 0
    assert values[3] == 1.0
    assert metrics["adhere/adhere_label/unscorable_frac"] == [0.25]
    assert "no.such_check" in caplog.text


def test_a_spec_column() -> None:
    rows = [
        {"prompt": "p", "spec": {"check": "punctuation.no_comma"}},
        {"prompt": "q", "spec": {"not": {"check": "punctuation.no_comma"}}},
    ]
    (values,), _ = call_like_grpo([reward_func(label_column="spec")], rows, ["a b", "a b"], [[1], [1]])
    assert values == [1.0, 0.0]


def test_one_spec_for_every_row_and_overlong_from_completion_ids() -> None:
    spec = {"check": "punctuation.no_comma"}
    reward = {"sum": ["binary", {"overlong": {"max_length": 10, "buffer": 4}}]}
    for source in (spec, Spec.parse(spec), json.dumps(spec)):
        fn = reward_func(source, reward=reward)
        assert callable_name(fn) == "adhere_spec"
        rows = [{"prompt": "p"}] * 3
        (values,), _ = call_like_grpo([fn], rows, ["ok", "ok", "a, b"], [[1] * 6, [1] * 8, [1] * 12])
        assert values == pytest.approx([1.0, 0.5, -1.0])


def test_group_rewards_see_each_prompt_group() -> None:
    # VeRPO over instruction units: the 4 completions of one prompt form one group
    rows = [
        {
            "prompt": "q",
            "instruction_id_list": ["punctuation:no_comma", "length_constraints:number_words"],
            "kwargs": [{}, {"num_words": 3, "relation": "at least"}],
        }
    ] * 4
    completions = ["a b c", "a, b, c", "a b", "a, b"]
    (values,), _ = call_like_grpo([reward_func("ifeval", reward="verpo")], rows, completions, [[1]] * 4)
    res = verpo([[[1, 1]], [[0, 1]], [[1, 0]], [[0, 0]]])
    assert values == pytest.approx([o + t[0] for o, t in zip(res.outcomes, res.turn_rewards, strict=True)])


def test_pickle_round_trip_keeps_behaviour() -> None:
    fn = reward_func("ifeval", reward="fraction", name="x")
    again = pickle.loads(pickle.dumps(fn))
    assert isinstance(again, TRLReward) and callable_name(again) == "x"
    assert (
        call_like_grpo([again], ifeval_rows(), COMPLETIONS, IDS)[0]
        == call_like_grpo([fn], ifeval_rows(), COMPLETIONS, IDS)[0]
    )


def test_configuration_errors_raise_at_construction_or_first_call() -> None:
    with pytest.raises(SpecError, match="unknown suite"):
        reward_func("ifevl")
    with pytest.raises(SpecError, match="name must be"):
        reward_func("ifeval", name="rewards/x")
    with pytest.raises(SpecError, match="did you mean 'binary'"):
        reward_func("ifeval", reward="binray")
    with pytest.raises(SpecError, match="mode"):
        reward_func("ifeval", mode="lenient")  # type: ignore[arg-type]
    fn = reward_func("ifeval")
    with pytest.raises(SpecError, match="needs the dataset column 'instruction_id_list'"):
        fn(prompts=["p"], completions=["c"], completion_ids=[[1]], label=["x"])
    with pytest.raises(SpecError, match="one value per completion"):
        fn(prompts=["p"], completions=["c"], instruction_id_list=[], kwargs=[])


def test_older_trl_without_completion_ids_or_log_metric() -> None:
    fn = reward_func("ifeval")
    assert fn(["p", "p"], ["a b", "a, b"], instruction_id_list=[["punctuation:no_comma"]] * 2, kwargs=[[{}]] * 2) == [
        1.0,
        0.0,
    ]
