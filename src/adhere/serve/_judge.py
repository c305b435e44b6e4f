"""Judging rows where they are judged: in a server worker process or a Ray actor, never on an event loop.

A :class:`Judge` owns what makes repeated judging cheap: parsed labels and rewards
memoised by their JSON (a GRPO group repeats one label G times, a training run repeats
a dataset's labels every epoch) and a sandbox executor for code-test labels, started on
first use. Rows arrive as plain JSON values, exactly as the client sent them, so label
errors are found here and name the request path the client knows
(``samples[3].label.kwargs[0].num_words``).

A row's answer never depends on the rows judged next to it, except through group
rewards (VeRPO), which see the rollouts of one group together; callers keep groups whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import SpecError
from ..verdict import Verdict

if TYPE_CHECKING:
    from ..labels import Label
    from ..rewards import Reward, RewardItem, Scored
    from ..sandbox import LocalExecutor

__all__ = ["Judge", "Row", "deadline_verdict", "internal_verdict"]

Row = tuple[Any, str, str, str]
"""(label as JSON value, response, prompt, path of the label in the request for error messages)."""

_MEMO = 8192


def deadline_verdict(budget: float) -> Verdict:
    """A sample the request's deadline left unjudged: unscorable, never 0."""
    return Verdict.of("deadline", None, f"deadline of {budget:g}s exceeded before this sample was judged")


def internal_verdict(why: str) -> Verdict:
    """A sample our own machinery failed to judge: unscorable with the reason."""
    return Verdict.of("internal", None, f"not judged: {why}")


def _key(raw: Any, mode: str) -> bytes:
    try:
        return orjson.dumps([raw, mode], option=orjson.OPT_SORT_KEYS)
    except TypeError:  # not orjson-serialisable (e.g. a huge int from a Python caller): no memo
        return b""


class Judge:
    """Label and reward parsing with memos, and judging with a lazily started sandbox executor."""

    def __init__(self, sandbox_workers: int | None = None, sandbox_active: int | None = None) -> None:
        self.sandbox_workers = sandbox_workers
        self.sandbox_active = sandbox_active
        self._labels: dict[bytes, Label] = {}
        self._rewards: dict[bytes, Reward] = {}
        self._executor: LocalExecutor | None = None
        self._started = False

    # -- parsing --------------------------------------------------------------------------
    def label(self, raw: Any, mode: str, path: str) -> Label:
        """The parsed label (memoised by its JSON); :class:`SpecError` naming ``path`` if malformed."""
        key = _key(raw, mode)
        hit = self._labels.get(key) if key else None
        if hit is not None:
            return hit
        from ..labels import parse_label  # after the memo: an import statement costs more than a hit

        try:
            label = parse_label(raw, path=path, mode=mode)  # type: ignore[arg-type]
        except SpecError:
            raise
        except Exception as exc:  # e.g. RecursionError on absurd nesting: the label's fault, a 4xx
            raise SpecError(f"malformed label: {type(exc).__name__}: {exc}", path) from None
        if key:
            if len(self._labels) >= _MEMO:
                self._labels.clear()
            self._labels[key] = label
        return label

    def reward(self, raw: Any, path: str = "reward") -> Reward:
        """The parsed reward declaration (memoised); :class:`SpecError` naming ``path`` if invalid."""
        key = _key(raw, "")
        hit = self._rewards.get(key) if key else None
        if hit is not None:
            return hit
        from ..rewards import parse_reward

        try:
            reward = parse_reward(raw, path)
        except SpecError:
            raise
        except Exception as exc:
            raise SpecError(f"malformed reward: {type(exc).__name__}: {exc}", path) from None
        if key:
            if len(self._rewards) >= 256:
                self._rewards.clear()
            self._rewards[key] = reward
        return reward

    def items(self, rows: Sequence[Row], mode: str) -> list[RewardItem]:
        """Every row's label parsed before any is judged, so a bad label costs no work."""
        from ..rewards import RewardItem

        return [RewardItem(self.label(raw, mode, path), response, prompt) for raw, response, prompt, path in rows]

    @staticmethod
    def has_code(labels: Sequence[Label]) -> bool:
        return any(label.tests is not None for label in labels)

    # -- judging --------------------------------------------------------------------------
    @property
    def executor(self) -> LocalExecutor:
        """This process's sandbox executor (its zygotes start with the first code job)."""
        if self._executor is None:
            from ..sandbox import LocalExecutor

            self._executor = LocalExecutor(workers=self.sandbox_workers, active=self.sandbox_active)
        return self._executor

    def verdicts(self, items: Sequence[RewardItem]) -> list[Verdict]:
        from ..labels import judge_labels

        return judge_labels([(i.label, i.response, i.prompt) for i in items], executor=self._code_executor(items))

    async def averdicts(self, items: Sequence[RewardItem]) -> list[Verdict]:
        from ..labels import ajudge_labels

        executor = await self._astart(items)
        return await ajudge_labels([(i.label, i.response, i.prompt) for i in items], executor=executor)

    def score(self, items: Sequence[RewardItem], reward: Reward) -> list[Scored]:
        from ..rewards import score_items

        return score_items(items, reward, executor=self._code_executor(items))

    async def ascore(self, items: Sequence[RewardItem], reward: Reward) -> list[Scored]:
        from ..rewards import ascore_items

        executor = await self._astart(items)
        return await ascore_items(items, reward, executor=executor)

    def _code_executor(self, items: Sequence[RewardItem]) -> LocalExecutor | None:
        return self.executor if self.has_code([i.label for i in items]) else None

    async def _astart(self, items: Sequence[RewardItem]) -> LocalExecutor | None:
        return await self.started_executor() if self.has_code([i.label for i in items]) else None

    async def started_executor(self) -> LocalExecutor:
        """The executor, its zygotes started in a thread the first time (start-up must not stall the loop)."""
        executor = self.executor
        if not self._started:
            await asyncio.to_thread(executor.start)
            self._started = True
        return executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            self._executor = None
            self._started = False
