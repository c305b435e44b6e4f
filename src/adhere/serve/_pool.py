"""Judging and rewarding spread over worker processes.

The event loop must never run checks itself (one slow response would stall every
client), so judging runs in a process pool: text labels in the worker, code-test labels
through the worker's own sandbox executor. Requests are split into chunks so a large
batch uses every worker, keeping each rollout group (same prompt and label) in one
chunk so group rewards (VeRPO) see the whole group. Labels travel as canonical JSON and
each worker memoises parsed labels and rewards, so a training run that repeats the same
few labels parses each once per worker.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from functools import lru_cache
from typing import Any

import orjson

from ..errors import SpecError

__all__ = ["Row", "VerifyPool", "judge_rows", "row_label"]

Row = tuple[str, str, str]
"""(canonical label JSON, response text, prompt text)."""

Judged = tuple[dict[str, Any], float | None]
"""(verdict tree as a dict, reward or None when unscorable)."""


@lru_cache(maxsize=8192)
def _label(key: str, mode: str) -> Any:
    from ..labels import parse_label

    return parse_label(orjson.loads(key), mode=mode)  # type: ignore[arg-type]


@lru_cache(maxsize=256)
def _reward(reward_json: str) -> Any:
    from ..rewards import parse_reward

    return parse_reward(orjson.loads(reward_json))


def judge_rows(rows: Sequence[Row], reward_json: str = '"binary"', mode: str = "strict") -> list[Judged]:
    """Judge and reward rows in this process (labels were validated by the caller)."""
    from ..rewards import RewardItem, score_items

    items = [RewardItem(_label(key, mode), response, prompt) for key, response, prompt in rows]
    return [(s.verdict.to_dict(), s.reward) for s in score_items(items, _reward(reward_json))]


def openrlhf_rows(payload: Mapping[str, Any], reward_json: str, unscorable_value: float | None, mode: str) -> Any:
    """One OpenRLHF ``/get_reward`` exchange in this process."""
    from ..integrations.openrlhf import get_reward

    return get_reward(payload, reward=orjson.loads(reward_json), unscorable_value=unscorable_value, mode=mode)


def row_label(spec: Any, label: Any, where: str, mode: str = "strict") -> str:
    """Canonical JSON of what a sample must adhere to (a ``spec``, or a ``label`` in the label
    language), validated now so errors surface (as 4xx) before any work is queued.

    Raises :class:`SpecError` naming ``where`` (e.g. ``samples[3].label``).
    """
    from ..labels import parse_label

    if spec is not None and label is not None:
        raise SpecError("give either 'spec' or 'label', not both", where)
    if spec is not None:
        raw: Any = {"spec": spec}
        path = where
    elif label is not None:
        raw, path = label, f"{where}.label"
    else:
        raise SpecError("each sample needs a 'spec' or a 'label'", where)
    try:
        parsed = parse_label(raw, path=path, mode=mode)  # type: ignore[arg-type]
    except SpecError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise SpecError(f"malformed label: {type(exc).__name__}: {exc}", path) from None
    return str(parsed.key)


def _warm() -> None:
    from ..registry import REGISTRY

    len(REGISTRY)


def _group_chunks(keys: Sequence[Any], parts: int, min_size: int) -> list[list[int]]:
    """Indices split into about ``parts`` chunks of at least ``min_size``, groups kept whole."""
    groups: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    target = max(min_size, -(-len(keys) // max(1, parts)))
    chunks: list[list[int]] = [[]]
    for members in groups.values():
        if chunks[-1] and len(chunks[-1]) + len(members) > target:
            chunks.append([])
        chunks[-1].extend(members)
    return chunks


class VerifyPool:
    """A process pool (or, with ``workers=0``, one thread) for :func:`judge_rows`."""

    def __init__(self, workers: int | None = None, chunk: int = 16) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.chunk = max(1, chunk)
        self.busy = 0
        self._executor: Executor
        if self.workers <= 0:
            self._executor = ThreadPoolExecutor(max_workers=1)
        else:
            ctx = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx, initializer=_warm)

    def warm_up(self) -> None:
        """Start every worker now so the first request does not pay for imports."""
        futures = [self._executor.submit(judge_rows, []) for _ in range(max(1, self.workers))]
        for f in futures:
            f.result()

    async def judge(self, rows: Sequence[Row], reward_json: str = '"binary"', mode: str = "strict") -> list[Judged]:
        loop = asyncio.get_running_loop()
        chunks = _group_chunks([(r[0], r[2]) for r in rows], self.workers, self.chunk)
        self.busy += 1
        try:
            parts = await asyncio.gather(
                *(
                    loop.run_in_executor(self._executor, judge_rows, [rows[i] for i in c], reward_json, mode)
                    for c in chunks
                )
            )
        finally:
            self.busy -= 1
        out: list[Judged | None] = [None] * len(rows)
        for c, part in zip(chunks, parts, strict=True):
            for i, judged in zip(c, part, strict=True):
                out[i] = judged
        return [j for j in out if j is not None]

    async def openrlhf(
        self, payload: Mapping[str, Any], reward_json: str, unscorable_value: float | None, mode: str
    ) -> dict[str, Any]:
        """OpenRLHF's exchange, rows split over the workers by prompt, answers merged in order."""
        queries, prompts, labels = payload["query"], payload["prompts"], payload["labels"]
        chunks = _group_chunks([str(p) for p in prompts], self.workers, self.chunk)
        loop = asyncio.get_running_loop()
        subs = [
            {"query": [queries[i] for i in c], "prompts": [prompts[i] for i in c], "labels": [labels[i] for i in c]}
            for c in chunks
        ]
        self.busy += 1
        try:
            parts = await asyncio.gather(
                *(
                    loop.run_in_executor(self._executor, openrlhf_rows, sub, reward_json, unscorable_value, mode)
                    for sub in subs
                )
            )
        finally:
            self.busy -= 1
        n = len(queries)
        rewards: list[Any] = [None] * n
        scores: list[Any] = [None] * n
        logs: dict[str, list[Any]] = {}
        for c, part in zip(chunks, parts, strict=True):
            for j, i in enumerate(c):
                rewards[i] = part["rewards"][j]
                scores[i] = part["scores"][j]
                for name, values in part.get("extra_logs", {}).items():
                    logs.setdefault(name, [None] * n)[i] = values[j]
        return {"rewards": rewards, "scores": scores, "extra_logs": logs}

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=False)
