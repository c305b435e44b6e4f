"""inspect_ai adapter: adhere as an Inspect scorer (``pip install 'adhere[inspect]'``).

Matches inspect-ai 0.3.285, read from its source: a scorer is registered with
``@scorer(metrics=...)`` and returns ``async def score(state: TaskState, target: Target) ->
Score``. Unscorable samples become ``Score.unscored(reason=...)`` (a NaN value that Inspect's
metrics and reducers skip; inspect-ai ≥ 0.3.245), never a 0.

Usage::

    from adhere.integrations.inspect import adhere
    Task(dataset=..., solver=generate(), scorer=adhere("ifeval"))

The label of a sample comes from ``spec`` (the same spec or label for every sample),
``"ifeval"``/``"ifbench"`` (the sample's ``metadata["instruction_id_list"]`` and
``metadata["kwargs"]``), or, with ``spec=None``, ``metadata[label_field]`` else the
sample's ``target`` text, in adhere's label language (:mod:`adhere.labels`). The value is
the reward (``reward=``, default ``"binary"``); the explanation is the verdict's reason and
the metadata holds the verdict tree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from adhere.errors import require

require("inspect_ai", "inspect")

from inspect_ai.scorer import Score, Target, mean, scorer, stderr  # noqa: E402
from inspect_ai.solver import TaskState  # noqa: E402

from adhere.labels import Label, parse_label  # noqa: E402
from adhere.rewards import RewardItem, ascore_items, parse_reward  # noqa: E402
from adhere.rewards._adapt import Mode, safe_label  # noqa: E402
from adhere.spec import Spec  # noqa: E402

__all__ = ["adhere"]

_SUITES = ("ifeval", "ifbench")


def _fixed_label(spec: Any) -> Label | None:
    if spec is None or (isinstance(spec, str) and spec in _SUITES):
        return None
    if isinstance(spec, Mapping) and ({"spec", "tests", "instruction_id_list", "inputs"} & set(spec)):
        return parse_label(spec)
    parsed = Spec.parse(spec)
    return Label("spec", spec=parsed, key=json.dumps(parsed.to_dict(), sort_keys=True, default=str))


def _adhere(spec: Any = None, reward: Any = "binary", mode: str = "strict", label_field: str = "label") -> Any:
    """An Inspect scorer judging each sample's output with adhere (see the module docstring).

    Args:
        spec: a spec or label for every sample, ``"ifeval"``/``"ifbench"``, or None (per-sample labels).
        reward: the reward declaration (a label's own ``"reward"`` wins).
        mode: ``"strict"`` or ``"loose"`` for IFEval/IFBench rows.
        label_field: the metadata key holding a sample's label when ``spec`` is None.
    """
    fixed = _fixed_label(spec)
    default = parse_reward(reward)
    if mode not in ("strict", "loose"):
        raise ValueError(f"mode must be 'strict' or 'loose', got {mode!r}")
    row_mode: Mode = "loose" if mode == "loose" else "strict"

    def label_of(state: TaskState, target: Target) -> Label:
        if fixed is not None:
            return fixed
        meta = state.metadata or {}
        if spec in _SUITES:
            row = {"instruction_id_list": meta.get("instruction_id_list"), "kwargs": meta.get("kwargs")}
            return safe_label(row, path="metadata", mode=row_mode)
        raw = meta.get(label_field, target.text)
        return safe_label(raw, path=f"sample {state.sample_id}", mode=row_mode)

    async def score(state: TaskState, target: Target) -> Score:
        label = label_of(state, target)
        completion = state.output.completion if state.output is not None else ""
        [scored] = await ascore_items([RewardItem(label, completion, state.input_text)], default)
        metadata = {"verdict": scored.verdict.to_dict()}
        if scored.reward is None:
            return Score.unscored(reason=scored.reason, explanation=scored.reason, metadata=metadata)
        return Score(value=scored.reward, explanation=scored.reason, metadata=metadata)

    return score


adhere: Any = scorer(metrics=[mean(), stderr()], name="adhere")(_adhere)
"""The registered Inspect scorer factory: ``adhere(spec=None, reward="binary", mode="strict", label_field="label")``."""
