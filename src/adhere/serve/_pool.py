"""Text verification spread over worker processes.

The event loop must never run checks itself (one slow response would stall every
client), so text checks run in a process pool. Requests are split into chunks so a
large batch uses every worker; specs travel as canonical JSON and each worker keeps
an LRU of parsed specs, so a training run that repeats the same few specs parses
each once per worker.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from functools import lru_cache
from typing import Any

import orjson

from ..errors import SpecError

__all__ = ["TextItem", "VerifyPool", "spec_key", "verify_items"]

# (canonical spec JSON, response text, prompt text)
TextItem = tuple[str, str, str]


@lru_cache(maxsize=4096)
def _spec(spec_json: str) -> Any:
    from ..spec import Spec

    return Spec.parse(orjson.loads(spec_json))


def verify_items(items: Sequence[TextItem]) -> list[dict[str, Any]]:
    """Judge items in this process; a verdict dict per item (never raises per item)."""
    from ..subjects import Response
    from ..verdict import Verdict

    out: list[dict[str, Any]] = []
    for spec_json, text, prompt in items:
        try:
            verdict = _spec(spec_json).evaluate(Response(text, prompt))
        except Exception as exc:  # validated before queueing; this is our own bug
            verdict = Verdict.of("spec", None, f"internal error: {type(exc).__name__}: {exc}")
        out.append(verdict.to_dict())
    return out


def _warm() -> None:
    from ..registry import REGISTRY

    len(REGISTRY)


class VerifyPool:
    """A process pool (or, with ``workers=0``, a thread) running :func:`verify_items`."""

    def __init__(self, workers: int | None = None, chunk: int = 32) -> None:
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
        futures = [self._executor.submit(verify_items, []) for _ in range(max(1, self.workers))]
        for f in futures:
            f.result()

    async def verify(self, items: Sequence[TextItem]) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        size = self.chunk
        if self.workers > 1 and len(items) > size:
            size = max(8, -(-len(items) // self.workers))
            size = min(size, self.chunk * 4)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        self.busy += 1
        try:
            parts = await asyncio.gather(*(loop.run_in_executor(self._executor, verify_items, c) for c in chunks))
        finally:
            self.busy -= 1
        return [v for part in parts for v in part]

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=False)


def spec_key(spec: Any, label: Any, prompt: str, where: str) -> str:
    """Canonical JSON of the spec a sample asks for (a ``spec``, or a ``label`` in the label
    language), validated now so errors surface before any work is queued.

    Raises :class:`SpecError` naming ``where`` (e.g. ``samples[3].label``).
    """
    if spec is not None and label is not None:
        raise SpecError("give either 'spec' or 'label', not both", where)
    if spec is not None:
        raw: Any = spec
        path = f"{where}.spec"
    elif label is not None:
        path = f"{where}.label"
        raw = _label_to_spec(label, prompt, path)
    else:
        raise SpecError("each sample needs a 'spec' or a 'label'", where)
    key = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS).decode()
    try:
        _spec(key)
    except SpecError as exc:
        inner = exc.path.removeprefix("spec").lstrip(".")
        raise SpecError(exc.message, f"{path}.{inner}" if inner else path) from None
    return key


def _label_to_spec(label: Any, prompt: str, path: str) -> Any:
    """The spec a label stands for (the label language lives in :mod:`adhere.labels`)."""
    import importlib

    try:
        labels: Any = importlib.import_module("adhere.labels")
    except ImportError:
        raise SpecError("labels are not supported by this build; send a 'spec'", path) from None
    try:
        return labels.label_spec(label, prompt=prompt, path=path)
    except SpecError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise SpecError(f"malformed label: {type(exc).__name__}: {exc}", path) from None
