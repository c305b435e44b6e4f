"""verl adapter: ``compute_score`` functions for verl's reward managers.

Matches verl 0.9.1 (PyPI wheel) and its main branch of January 2026 (0.8.0.dev), read
from their source. verl loads a custom reward function by module or file path and name
(``reward.custom_reward_function.path`` / ``.name``; ``load_extern_object``), wraps it so
the config's ``custom_reward_function.reward_kwargs`` are passed as keyword arguments,
and calls it in one of three shapes:

* ``naive``, ``dapo`` and the reward-loop managers: ``compute_score(data_source=...,
  solution_str=..., ground_truth=..., extra_info=...)`` per response; a coroutine function
  is awaited. A ``dict`` result must hold ``"score"``; *every* key is appended to the
  batch's ``reward_extra_info`` lists, so all results must carry the same keys.
* ``prime``: ``compute_score(data_source, solution_str, ground_truth, extra_info)``
  positionally, in a process pool (the function must pickle); only a number, or a
  sequence whose first item is the score, is accepted (a dict breaks it).
* ``batch``: ``compute_score(data_sources=[...], solution_strs=[...],
  ground_truths=[...], extra_infos=[...])`` once per batch; a list of numbers or dicts.

The label is ``ground_truth`` (``reward_model.ground_truth`` in the parquet), in adhere's
label language (:mod:`adhere.labels`). Config (YAML)::

    reward:
      custom_reward_function:
        path: pkg://adhere.integrations.verl    # or this file's path (verl ≥ 0.5 reads pkg://)
        name: compute_score          # or compute_score_prime / compute_score_batch / compute_score_async
        reward_kwargs: {reward: {"sum": ["binary", ...]}, unscorable_value: 0.0, mode: strict}

verl needs a number for every response: an unscorable one gets ``unscorable_value``
(default 0.0, or ``ADHERE_UNSCORABLE_VALUE``) and the dict says so. Dict keys, always the
same: ``score`` (the reward, or the fallback), ``acc`` (1.0 pass / 0.0 fail, the fallback
when unscorable), ``unscorable`` (1.0 / 0.0, so verl's means give the unscorable rate) and
``reason`` (a sentence; verl's metrics skip strings).

``pkg://`` keeps the functions importable by name, which ``prime``'s process pool needs to
pickle them; loaded by file path they pickle only by value (Ray's cloudpickle). This file
uses absolute imports only, so loading it by path works too.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from adhere.rewards import RewardItem, Scored, ascore_items, score_items
from adhere.rewards._adapt import AdapterSettings, safe_label

__all__ = ["KEYS", "compute_score", "compute_score_async", "compute_score_batch", "compute_score_prime"]

KEYS: tuple[str, ...] = ("score", "acc", "unscorable", "reason")
"""The keys of every dict ``compute_score`` returns."""

# Keyword arguments verl itself may add (reward-loop routers, its sandbox-fusion settings):
# accepted and ignored. Anything else is a typo in reward_kwargs and raises TypeError.
_VERL_KWARGS = frozenset(
    {"reward_router_address", "reward_model_tokenizer", "sandbox_fusion_url", "concurrent_semaphore", "memory_limit_mb"}
)


def _settings(options: Mapping[str, Any]) -> tuple[AdapterSettings, Any]:
    unknown = set(options) - {"reward", "unscorable_value", "mode", "executor"} - _VERL_KWARGS
    if unknown:
        raise TypeError(
            f"unexpected reward_kwargs {sorted(unknown)}; adhere's compute_score takes reward, unscorable_value, mode"
        )
    settings = AdapterSettings.resolve(options.get("reward"), options.get("unscorable_value"), options.get("mode"))
    return settings, options.get("executor")


def _item(solution_str: Any, ground_truth: Any, extra_info: Any, settings: AdapterSettings) -> RewardItem:
    label = safe_label(ground_truth, path="ground_truth", mode=settings.mode)
    info = extra_info if isinstance(extra_info, Mapping) else {}
    prompt = info.get("prompt") if isinstance(info.get("prompt"), str) else ""
    index = info.get("index")
    group: Hashable = (index if isinstance(index, Hashable) else None, label.key) if index is not None else None
    return RewardItem(label, "" if solution_str is None else str(solution_str), prompt or "", None, group)


def _as_dict(scored: Scored, settings: AdapterSettings) -> dict[str, Any]:
    value = settings.value(scored)
    acc = settings.unscorable_value if scored.unscorable else float(scored.verdict.passed)
    return {"score": value, "acc": acc, "unscorable": float(scored.unscorable), "reason": scored.reason}


def compute_score(
    data_source: Any,
    solution_str: Any,
    ground_truth: Any,
    extra_info: Any = None,
    **options: Any,
) -> dict[str, Any]:
    """Score one response (naive, dapo and reward-loop managers); a dict with :data:`KEYS`.

    Options (verl's ``reward_kwargs``): ``reward`` (a declaration, default ``"binary"``),
    ``unscorable_value`` (default 0.0), ``mode`` (``"strict"``/``"loose"``).
    ``extra_info["prompt"]``, when present, is the prompt some checks read.
    """
    settings, executor = _settings(options)
    [scored] = score_items(
        [_item(solution_str, ground_truth, extra_info, settings)], settings.reward, executor=executor
    )
    return _as_dict(scored, settings)


async def compute_score_async(
    data_source: Any,
    solution_str: Any,
    ground_truth: Any,
    extra_info: Any = None,
    **options: Any,
) -> dict[str, Any]:
    """:func:`compute_score` as a coroutine function: verl's reward-loop managers await it."""
    settings, executor = _settings(options)
    item = _item(solution_str, ground_truth, extra_info, settings)
    [scored] = await ascore_items([item], settings.reward, executor=executor)
    return _as_dict(scored, settings)


def compute_score_prime(
    data_source: Any,
    solution_str: Any,
    ground_truth: Any,
    extra_info: Any = None,
    **options: Any,
) -> float:
    """The ``prime`` manager's positional form: a plain float (prime cannot take a dict).

    ``prime`` turns a failed or timed-out call into 0.0 itself; unscorable rows here get
    ``unscorable_value`` (there is no flag channel in this manager: prefer ``batch`` or
    ``naive`` when the flag matters).
    """
    return float(compute_score(data_source, solution_str, ground_truth, extra_info, **options)["score"])


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[Any],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[Any] | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """The ``batch`` manager's plural form: one dict (:data:`KEYS`) per response.

    The whole batch is judged at once (code tests go to the sandbox together), and group
    rewards (VeRPO) see the responses of each prompt together: a group is the responses
    with the same label and the same ``extra_info["index"]``.
    """
    settings, executor = _settings(options)
    n = len(solution_strs)
    if len(ground_truths) != n or len(data_sources) != n or (extra_infos is not None and len(extra_infos) != n):
        raise ValueError(
            f"data_sources, solution_strs, ground_truths and extra_infos must have equal lengths "
            f"(got {len(data_sources)}, {n}, {len(ground_truths)}, {None if extra_infos is None else len(extra_infos)})"
        )
    infos: Sequence[Any] = extra_infos if extra_infos is not None else [None] * n
    items = [_item(s, g, e, settings) for s, g, e in zip(solution_strs, ground_truths, infos, strict=True)]
    return [_as_dict(s, settings) for s in score_items(items, settings.reward, executor=executor)]
