"""TRL adapter: reward functions for ``trl.GRPOTrainer(reward_funcs=[...])``.

Matches the call contract of TRL 1.16.0 (``GRPOTrainer._calculate_rewards``), read from
its source: every reward function is called once per batch as::

    reward_func(prompts=[...], completions=[...], completion_ids=[[int, ...], ...],
                <every other dataset column as a list>, trainer_state=..., log_extra=...,
                log_metric=..., [environments=...])

``prompts``/``completions`` are strings (standard format) or lists of chat messages
(conversational format: ``[{"role": "assistant", "content": ...}]``). It must return one
value per completion; ``None`` is turned into NaN, left out of the reward mean, and its
advantage is zeroed, so unscorable rows are ``None`` here, never 0.
Async callables (``async def __call__``, detected through ``inspect.iscoroutinefunction``
on the instance's ``__call__``) are awaited on TRL's event-loop thread, in parallel with
other async rewards. The metric name is the callable's ``__name__``: TRL logs
``rewards/<__name__>/mean`` and ``/std``. Older TRL versions that pass neither
``completion_ids`` nor ``log_metric`` work too (both are optional here).

Usage::

    from adhere.integrations.trl import reward_func
    trainer = GRPOTrainer(model, reward_funcs=[reward_func("ifeval")], train_dataset=ds, ...)

``reward_func("ifeval")`` (or ``"ifbench"``) reads the ``instruction_id_list`` and ``kwargs``
columns; ``reward_func()`` reads a ``label`` column in adhere's label language
(:mod:`adhere.labels`); ``reward_func(spec)`` judges every row against one spec.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from adhere.errors import SpecError
from adhere.labels import Label, parse_label
from adhere.rewards import Reward, RewardItem, Scored, ascore_items, parse_reward, score_items, unscorable_rate
from adhere.rewards._adapt import Mode, columns_at, completion_text, group_text, prompt_text, safe_label
from adhere.spec import Spec, load_document

__all__ = ["AsyncTRLReward", "TRLReward", "reward_func"]

_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
_SUITES = ("ifeval", "ifbench")
_ROW_COLUMNS = ("instruction_id_list", "kwargs")


class TRLReward:
    """A TRL reward function (see the module docstring); build it with :func:`reward_func`.

    Picklable (TRL and ``accelerate`` may copy reward functions to worker processes): it
    holds only declarations; parsed labels are cached per process.
    """

    def __init__(
        self,
        source: Label | str | None,
        reward: Reward,
        name: str,
        mode: Mode = "strict",
        label_column: str = "label",
        executor: Any = None,
    ) -> None:
        self.source = source
        self.reward = reward
        self.__name__ = name
        self.mode: Mode = mode
        self.label_column = label_column
        self.executor = executor

    # -- building items -------------------------------------------------------------------
    def _labels(self, n: int, kwargs: Mapping[str, Any]) -> list[Label]:
        if isinstance(self.source, Label):
            return [self.source] * n
        if self.source in _SUITES:
            ids, kws = columns_at(kwargs, _ROW_COLUMNS, n, f"reward_func({self.source!r})")
            return [
                safe_label({"instruction_id_list": i, "kwargs": k}, path=f"row {r}", mode=self.mode)
                for r, (i, k) in enumerate(zip(ids, kws, strict=True))
            ]
        [labels] = columns_at(kwargs, [self.label_column], n, "reward_func()")
        return [safe_label(raw, path=f"row {r}.{self.label_column}", mode=self.mode) for r, raw in enumerate(labels)]

    def items(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        completion_ids: Sequence[Sequence[int]] | None,
        kwargs: Mapping[str, Any],
    ) -> list[RewardItem]:
        n = len(completions)
        if len(prompts) != n or (completion_ids is not None and len(completion_ids) != n):
            raise SpecError(f"{self.__name__}: prompts, completions and completion_ids must have equal lengths")
        labels = self._labels(n, kwargs)
        return [
            RewardItem(
                label,
                completion_text(completions[i]),
                prompt_text(prompts[i]),
                None if completion_ids is None else len(completion_ids[i]),
                (group_text(prompts[i]), label.key),
            )
            for i, label in enumerate(labels)
        ]

    def _report(self, scored: list[Scored], kwargs: Mapping[str, Any]) -> list[float | None]:
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            log_metric(f"adhere/{self.__name__}/unscorable_frac", unscorable_rate(scored))
        return [s.reward for s in scored]

    # -- the TRL call ---------------------------------------------------------------------------
    def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        completion_ids: Sequence[Sequence[int]] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        items = self.items(prompts, completions, completion_ids, kwargs)
        return self._report(score_items(items, self.reward, executor=self.executor), kwargs)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["executor"] = None  # a sandbox pool belongs to its process
        return state

    def __repr__(self) -> str:
        return f"<adhere TRL reward {self.__name__!r}: {self.reward.to_dict()!r}>"


class AsyncTRLReward(TRLReward):
    """The ``async`` variant: TRL awaits it on its event-loop thread, alongside other async rewards."""

    async def __call__(  # type: ignore[override]
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        completion_ids: Sequence[Sequence[int]] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        items = self.items(prompts, completions, completion_ids, kwargs)
        return self._report(await ascore_items(items, self.reward, executor=self.executor), kwargs)


def _source(spec_or_suite: Any) -> tuple[Label | str | None, str]:
    if spec_or_suite is None:
        return None, "adhere_label"
    if isinstance(spec_or_suite, str) and spec_or_suite in _SUITES:
        return spec_or_suite, f"adhere_{spec_or_suite}"
    if isinstance(spec_or_suite, Spec):
        return _spec_label(spec_or_suite), "adhere_spec"
    if isinstance(spec_or_suite, Label):
        return spec_or_suite, "adhere_label"
    if isinstance(spec_or_suite, str):
        text = spec_or_suite.strip()
        if not text.startswith(("{", "[")) and "\n" not in text and ":" not in text:
            raise SpecError(f"unknown suite {spec_or_suite!r}; reward_func takes {list(_SUITES)}, a spec, or None")
    raw = load_document(spec_or_suite, "spec") if isinstance(spec_or_suite, str) else spec_or_suite
    if isinstance(raw, Mapping) and ({"spec", "tests", "instruction_id_list", "inputs"} & set(raw)):
        return parse_label(raw), "adhere_label"  # a whole label: the same for every row
    return _spec_label(Spec.parse(raw)), "adhere_spec"


def _spec_label(spec: Spec) -> Label:
    return Label("spec", spec=spec, key=json.dumps(spec.to_dict(), sort_keys=True, default=str))


def reward_func(
    spec_or_suite: Any = None,
    *,
    reward: Any = "binary",
    name: str | None = None,
    mode: Mode = "strict",
    label_column: str = "label",
    asynchronous: bool = False,
    executor: Any = None,
) -> TRLReward:
    """A reward function for TRL's ``GRPOTrainer``.

    Args:
        spec_or_suite: ``"ifeval"`` or ``"ifbench"`` (read the ``instruction_id_list`` and
            ``kwargs`` columns), a spec (a :class:`~adhere.Spec`, dict, or JSON/YAML text;
            every row judged against it), a whole label object, or ``None`` (read each
            row's label from ``label_column``, in adhere's label language).
        reward: the reward declaration (:func:`adhere.rewards.parse_reward`); a row's label
            may override it with its own ``"reward"``. Default ``"binary"``.
        name: the metric name TRL logs (``rewards/<name>/mean``); default
            ``adhere_<suite>``, ``adhere_spec`` or ``adhere_label``.
        mode: ``"strict"`` or ``"loose"`` for IFEval/IFBench rows without their own mode.
        label_column: the dataset column holding labels when ``spec_or_suite`` is None.
        asynchronous: return the ``async`` variant (:class:`AsyncTRLReward`).
        executor: the sandbox executor for code-test labels (default: the shared one).

    Returns:
        A callable with a stable ``__name__``, returning ``float | None`` per completion
        (``None``: unscorable, never folded into 0).

    Raises:
        SpecError: an unknown suite, an invalid spec, reward, mode or name. A malformed
            label in a dataset row does not raise: that row is unscorable (None), with a
            logged warning.
    """
    source, default_name = _source(spec_or_suite)
    name = name or default_name
    if not _NAME_RE.match(name):
        raise SpecError(f"name must be letters, digits, '_', '.' or '-' (TRL logs rewards/<name>/mean), got {name!r}")
    if mode not in ("strict", "loose"):
        raise SpecError(f"mode must be 'strict' or 'loose', got {mode!r}")
    cls = AsyncTRLReward if asynchronous else TRLReward
    return cls(source, parse_reward(reward), name, mode, label_column, executor)
