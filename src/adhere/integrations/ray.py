"""Verification beyond one machine with Ray (extra ``ray``).

``verify_dataset`` maps a ``ray.data.Dataset`` of samples to verdicts and rewards with an
actor pool. Each actor is a long-lived process that keeps parsed specs (and, for code,
a sandbox executor) warm across batches, so a cluster verifies at the speed of its
cores rather than of process start-up. Trainers that already run on Ray (verl,
OpenRLHF) call into the same cluster; see ``docs/scale.md``.

Input rows carry ``response`` and ``prompt`` and either a ``spec``/``label`` column (the
label language of :mod:`adhere.labels`: specs, IFEval/IFBench rows, code tests) or
nothing (then the ``spec`` argument applies to every row). Output rows gain
``verdict`` (the verdict tree as a JSON string, lossless), ``outcome``, ``score`` and
``reward`` (the ``reward`` declaration's value; ``None`` for unscorable rows unless
``unscorable_value`` is given).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ..errors import SpecError, require
from ..serve._pool import judge_rows, row_label

__all__ = ["VerifyActor", "verify_dataset"]


class VerifyActor:
    """Ray Data callable class: one per actor, verifying batches in its own process."""

    def __init__(
        self,
        label_json: str | None,
        reward_json: str = '"binary"',
        response_column: str = "response",
        prompt_column: str = "prompt",
        spec_column: str = "spec",
        label_column: str = "label",
        unscorable_value: float | None = None,
    ) -> None:
        self.label_json = label_json
        self.reward_json = reward_json
        self.response_column = response_column
        self.prompt_column = prompt_column
        self.spec_column = spec_column
        self.label_column = label_column
        self.unscorable_value = unscorable_value

    def _row_spec(self, batch: Mapping[str, Any], i: int, prompt: str) -> str:
        if self.label_json is not None:
            return self.label_json
        spec = _cell(batch, self.spec_column, i)
        label = _cell(batch, self.label_column, i)
        if isinstance(spec, str):
            spec = orjson.loads(spec)
        return row_label(spec, label, f"row[{i}]")

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        from ..verdict import Verdict

        responses = batch[self.response_column]
        n = len(responses)
        items = []
        errors: dict[int, str] = {}
        for i in range(n):
            prompt = str(_cell(batch, self.prompt_column, i) or "")
            try:
                items.append((self._row_spec(batch, i, prompt), str(responses[i]), prompt))
            except SpecError as exc:  # one bad row must not sink the dataset: it is unscorable
                errors[i] = str(exc)
                items.append(("", "", ""))
        todo = [k for k in range(n) if k not in errors]
        judged = judge_rows([items[k] for k in todo], self.reward_json)
        verdicts: list[dict[str, Any]] = [{} for _ in range(n)]
        rewards: list[float | None] = [None] * n
        for k, (v, r) in zip(todo, judged, strict=True):
            verdicts[k], rewards[k] = v, r
        for k, msg in errors.items():
            verdicts[k] = Verdict.of("label", None, f"invalid spec or label: {msg}").to_dict()
        out = dict(batch)
        out["verdict"] = [orjson.dumps(v).decode() for v in verdicts]
        out["outcome"] = [v["outcome"] for v in verdicts]
        out["score"] = [v["score"] for v in verdicts]
        out["reward"] = [r if r is not None else self.unscorable_value for r in rewards]
        return out


def _cell(batch: Mapping[str, Any], column: str, i: int) -> Any:
    values = batch.get(column)
    if values is None:
        return None
    value = values[i]
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


def verify_dataset(
    ds: Any,
    spec: Any = None,
    *,
    response_column: str = "response",
    prompt_column: str = "prompt",
    spec_column: str = "spec",
    label_column: str = "label",
    reward: Any = "binary",
    concurrency: int = 2,
    batch_size: int = 256,
    num_cpus: float = 1.0,
    unscorable_value: float | None = None,
) -> Any:
    """Verify every row of ``ds`` on an actor pool; returns a lazy ``ray.data.Dataset``.

    ``spec`` (a dict, JSON/YAML string or :class:`~adhere.spec.Spec`) applies to all rows;
    without it each row's ``spec`` or ``label`` column says what to check. The spec is
    validated here, before any task is scheduled.
    """
    ray: Any = require("ray", "ray")
    label_json: str | None = None
    if spec is not None:
        from ..spec import Spec

        label_json = row_label(Spec.parse(spec).to_dict(), None, "spec")
    from ..rewards import parse_reward

    parse_reward(reward, "reward")
    return ds.map_batches(
        VerifyActor,
        fn_constructor_kwargs={
            "label_json": label_json,
            "reward_json": orjson.dumps(reward).decode(),
            "response_column": response_column,
            "prompt_column": prompt_column,
            "spec_column": spec_column,
            "label_column": label_column,
            "unscorable_value": unscorable_value,
        },
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=concurrency),
        num_cpus=num_cpus,
    )
