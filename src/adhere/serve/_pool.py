"""Judging spread over worker processes, driven from the server's event loop.

The event loop never judges (one slow response would stall every client). It splits a
request's rows into chunks, keeping each rollout group (same prompt and label) in one
chunk so group rewards (VeRPO) see the whole group, and writes each chunk as one frame
to a worker process (:mod:`._worker`) over a socket; answers come back on the same
socket and resolve futures. No threads, no pickling, no executor bookkeeping on the
hot path: a frame is one ``orjson.dumps``, and the frames of one event-loop iteration
reach a worker in one write (on a busy machine a process wake-up costs more than
judging a short text).

Text chunks go to the worker with the fewest text rows outstanding, code chunks to the
one with the fewest code rows (a worker runs its code rows in its own sandbox executor
while it goes on judging text). Chunks are between ``min_chunk`` rows (fewer frames for
small batches) and ``max_chunk`` rows (a huge batch does not hold a worker for long:
workers take the smallest waiting message first).

A worker that dies is replaced; the rows it held come back unscorable with the reason,
and the request is answered. Rows a request's deadline leaves unjudged come back
unscorable too (never 0), and their work is dropped in the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..errors import SpecError
from . import _frames
from ._config import default_sandbox_active, default_sandbox_workers
from ._judge import Row, deadline_verdict, internal_verdict

__all__ = ["Row", "WorkerLost", "WorkerPool", "group_chunks", "is_code_label"]

_START_TIMEOUT = 120.0
_TEST_KEYS = frozenset({"inputs", "outputs", "fn_name", "asserts", "setup", "timeout"})


class WorkerLost(Exception):
    """A worker process ended while it held rows."""


def is_code_label(raw: Any) -> bool:
    """Whether a label (as sent) holds code tests; only for routing, the worker parses it for real."""
    if not isinstance(raw, dict):
        return False
    keys = set(raw) - {"reward"}
    return keys == {"tests"} or (bool(keys) and keys <= _TEST_KEYS and ("inputs" in keys or "asserts" in keys))


def group_chunks(keys: Sequence[Hashable], parts: int, min_size: int, max_size: int) -> list[list[int]]:
    """Indices split into about ``parts`` chunks of ``min_size``..``max_size`` rows, groups kept whole
    (a group larger than ``max_size`` is one chunk)."""
    groups: dict[Hashable, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    target = min(max_size, max(min_size, -(-len(keys) // max(1, parts))))
    chunks: list[list[int]] = [[]]
    for members in groups.values():
        if chunks[-1] and len(chunks[-1]) + len(members) > target:
            chunks.append([])
        chunks[-1].extend(members)
    return [c for c in chunks if c]


@dataclass(eq=False)
class _Proc:
    index: int
    proc: subprocess.Popen[bytes]
    transport: asyncio.Transport | None = None
    pending: dict[int, asyncio.Future[bytes]] = field(default_factory=dict)
    text_rows: int = 0
    code_rows: int = 0
    alive: bool = True
    ready: asyncio.Future[bytes | None] | None = None
    outbox: list[bytes] = field(default_factory=list)
    lost: asyncio.Future[None] | None = None
    task: asyncio.Task[None] | None = None

    def on_frame(self, mid: int, payload: bytes) -> None:
        if mid == 0:
            if self.ready is not None and not self.ready.done():
                self.ready.set_result(payload)
            return
        fut = self.pending.pop(mid, None)
        if fut is not None and not fut.done():
            fut.set_result(payload)

    def on_lost(self) -> None:
        self.alive = False
        if self.ready is not None and not self.ready.done():
            self.ready.set_result(None)
        if self.lost is not None and not self.lost.done():
            self.lost.set_result(None)


def _worker_env() -> dict[str, str]:
    """The server's environment, with adhere's own directory on the path (a source checkout too)."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class WorkerPool:
    """``workers`` judging processes, each with ``sandbox_workers`` sandbox slots for code tests,
    ``sandbox_active`` of them taking jobs at any time (the rest overflow, see ``LocalExecutor``)."""

    def __init__(
        self,
        workers: int,
        sandbox_workers: int = 0,
        min_chunk: int = 16,
        max_chunk: int = 64,
        *,
        sandbox_active: int = 0,
    ) -> None:
        self.workers = max(1, workers)
        self.sandbox_workers = sandbox_workers if sandbox_workers > 0 else default_sandbox_workers(self.workers)
        self.sandbox_active = (
            min(sandbox_active, self.sandbox_workers)
            if sandbox_active > 0
            else default_sandbox_active(self.workers, self.sandbox_workers)
        )
        self.min_chunk = max(1, min_chunk)
        self.max_chunk = max(self.min_chunk, max_chunk)
        self.restarts = 0
        self._procs: list[_Proc | None] = [None] * self.workers
        self._ids = itertools.count(1)
        self._closing = False
        self._live = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        procs = await asyncio.gather(*(self._spawn(i) for i in range(self.workers)))
        for p in procs:
            self._install(p)

    async def _spawn(self, index: int) -> _Proc:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            cmd = [
                sys.executable,
                "-m",
                "adhere.serve._worker",
                str(child.fileno()),
                str(self.sandbox_workers),
                str(self.sandbox_active),
            ]
            popen = subprocess.Popen(
                cmd, pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, env=_worker_env(), close_fds=True
            )
        finally:
            child.close()
        loop = asyncio.get_running_loop()
        p = _Proc(index, popen, ready=loop.create_future(), lost=loop.create_future())
        p.transport = await _frames.connect(parent, p.on_frame, p.on_lost)
        try:
            first = await asyncio.wait_for(asyncio.shield(p.ready), _START_TIMEOUT) if p.ready else None
        except asyncio.TimeoutError:
            first = None
        if not first or b"ready" not in first:
            popen.kill()
            p.transport.close()
            raise RuntimeError(f"worker process {popen.pid} did not start (exit code {popen.poll()})")
        return p

    def _install(self, p: _Proc) -> None:
        self._procs[p.index] = p
        p.task = asyncio.create_task(self._watch(p))
        self._live.set()

    async def _watch(self, p: _Proc) -> None:
        """When the worker's socket ends: fail what it held, and start a replacement."""
        assert p.lost is not None
        await p.lost
        p.alive = False
        if p.transport is not None:
            p.transport.close()
        code = await asyncio.to_thread(_reap, p.proc)
        lost = WorkerLost(f"worker process {p.proc.pid} ended (exit code {code}) while judging")
        for fut in p.pending.values():
            if not fut.done():
                fut.set_exception(lost)
        p.pending.clear()
        if not any(q is not None and q.alive for q in self._procs):
            self._live.clear()
        if not self._closing:
            self.restarts += 1
            await self._respawn(p.index)

    async def _respawn(self, index: int) -> None:
        while not self._closing:
            try:
                self._install(await self._spawn(index))
                return
            except (OSError, RuntimeError):
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        """Close the sockets (workers end at end of file) and wait for the processes."""
        self._closing = True
        procs = [p for p in self._procs if p is not None]
        for p in procs:
            if p.transport is not None:
                p.transport.close()
        for p in procs:
            await asyncio.to_thread(_reap, p.proc, 30.0)
            if p.task is not None:
                p.task.cancel()

    # -- state for /healthz and /metrics ------------------------------------------------------
    @property
    def pids(self) -> list[int]:
        return [p.proc.pid for p in self._procs if p is not None and p.alive]

    @property
    def text_rows(self) -> int:
        return sum(p.text_rows for p in self._procs if p is not None)

    @property
    def code_rows(self) -> int:
        return sum(p.code_rows for p in self._procs if p is not None)

    # -- sending ----------------------------------------------------------------------------------
    def _pick(self, code: bool) -> _Proc | None:
        live = [p for p in self._procs if p is not None and p.alive]
        if not live:
            return None
        return min(live, key=(lambda p: p.code_rows) if code else (lambda p: p.text_rows))

    def _send(self, p: _Proc, payload: bytes, rows: int, code: bool) -> tuple[_Proc, int, asyncio.Future[bytes]]:
        mid = next(self._ids) & 0xFFFFFFFF or next(self._ids)
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        p.pending[mid] = fut
        if code:
            p.code_rows += rows
        else:
            p.text_rows += rows

        def done(_: object) -> None:
            if code:
                p.code_rows -= rows
            else:
                p.text_rows -= rows

        fut.add_done_callback(done)
        self._post(p, _frames.frame(mid, payload))
        return p, mid, fut

    def _post(self, p: _Proc, data: bytes) -> None:
        """Queue a frame; the frames of one loop iteration reach a worker in one write (one wake-up)."""
        if not p.outbox:
            asyncio.get_running_loop().call_soon(self._flush, p)
        p.outbox.append(data)

    @staticmethod
    def _flush(p: _Proc) -> None:
        if p.outbox and p.alive and p.transport is not None and not p.transport.is_closing():
            p.transport.write(b"".join(p.outbox))
        p.outbox.clear()

    def _cancel(self, p: _Proc, mid: int) -> None:
        fut = p.pending.pop(mid, None)
        if fut is not None and not fut.done():
            fut.cancel()
        if p.alive:
            self._post(p, _frames.frame(0, orjson.dumps({"op": "cancel", "id": mid})))

    async def _run(
        self, messages: list[tuple[list[int], dict[str, Any], bool]], budget: float
    ) -> list[tuple[list[int], dict[str, Any] | str]]:
        """Send every message, wait up to ``budget``; per message its answer or why there is none."""
        deadline = time.monotonic() + budget
        encoded = []
        for indices, msg, code in messages:  # all encoded before any is sent: an error sends nothing
            msg["deadline"] = deadline
            encoded.append((indices, _encode(msg), code))
        sent = []
        out: list[tuple[list[int], dict[str, Any] | str]] = []
        for indices, payload, code in encoded:
            p = self._pick(code)
            if p is None:  # every worker is being replaced: wait for one, within the budget
                self._live.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._live.wait(), max(0.0, deadline - time.monotonic()))
                p = self._pick(code)
            if p is None:
                out.append((indices, "no worker process is available"))
                continue
            sent.append((indices, *self._send(p, payload, len(indices), code)))
        futures = [fut for _, _, _, fut in sent]
        if futures:
            await asyncio.wait(futures, timeout=max(0.0, deadline - time.monotonic()))
        for indices, p, mid, fut in sent:
            if not fut.done():
                self._cancel(p, mid)
                out.append((indices, "deadline"))
            elif fut.cancelled():
                out.append((indices, "deadline"))
            elif fut.exception() is not None:
                out.append((indices, str(fut.exception())))
            else:
                body = _frames.loads(fut.result())
                out.append((indices, "deadline" if body.get("expired") else body))
        return out

    # -- the operations -------------------------------------------------------------------------
    def _messages(
        self, rows: Sequence[Row], make: Callable[[list[Row]], dict[str, Any]]
    ) -> list[tuple[list[int], dict[str, Any], bool]]:
        """Rows split by kind (text, code) and into chunks over the workers, groups whole."""
        code_idx = [i for i, r in enumerate(rows) if is_code_label(r[0])]
        text_idx = [i for i, r in enumerate(rows) if not is_code_label(r[0])] if code_idx else list(range(len(rows)))
        out = []
        for idx, code in ((text_idx, False), (code_idx, True)):
            if not idx:
                continue
            keys: list[Hashable] = [_group_key(rows[i]) for i in idx] if len(idx) > 1 else [0]
            min_size = 1 if code else self.min_chunk
            for chunk in group_chunks(keys, self.workers, min_size, self.max_chunk):
                indices = [idx[j] for j in chunk]
                out.append((indices, make([rows[i] for i in indices]), code))
        return out

    async def reward(
        self, rows: Sequence[Row], reward: Any, mode: str, budget: float
    ) -> list[tuple[float | None, str, str]]:
        """(reward, reason, outcome) per row, in order. Raises :class:`SpecError` for a bad label or reward."""
        messages = self._messages(rows, lambda chunk: {"op": "reward", "rows": chunk, "reward": reward, "mode": mode})
        out: list[tuple[float | None, str, str]] = [(None, "", "unscorable")] * len(rows)
        for indices, body in self._raise_first_error(await self._run(messages, budget)):
            if isinstance(body, str):
                v = deadline_verdict(budget) if body == "deadline" else internal_verdict(body)
                for i in indices:
                    out[i] = (None, v.reason, v.outcome)
                continue
            for i, r, why, outcome in zip(indices, body["rewards"], body["reasons"], body["outcomes"], strict=True):
                out[i] = (r, why, outcome)
        return out

    async def verify(self, rows: Sequence[Row], mode: str, budget: float) -> list[dict[str, Any]]:
        """The verdict tree (as a dict) of each row, in order. Raises :class:`SpecError` for a bad label."""
        messages = self._messages(rows, lambda chunk: {"op": "verify", "rows": chunk, "mode": mode})
        out: list[dict[str, Any]] = [{}] * len(rows)
        for indices, body in self._raise_first_error(await self._run(messages, budget)):
            if isinstance(body, str):
                v = (deadline_verdict(budget) if body == "deadline" else internal_verdict(body)).to_dict()
                for i in indices:
                    out[i] = v
                continue
            for i, verdict in zip(indices, body["verdicts"], strict=True):
                out[i] = verdict
        return out

    async def openrlhf(
        self,
        queries: list[str],
        prompts: list[str],
        labels: list[Any],
        reward: Any,
        unscorable_value: float,
        mode: str,
        budget: float,
    ) -> dict[str, Any]:
        """OpenRLHF's exchange, rows split over the workers by prompt, answers merged in order."""
        rows: list[Row] = [(labels[i], "", prompts[i], "") for i in range(len(queries))]

        def make(idx: list[int]) -> dict[str, Any]:
            return {
                "op": "openrlhf",
                "query": [queries[i] for i in idx],
                "prompts": [prompts[i] for i in idx],
                "labels": [labels[i] for i in idx],
                "index": idx,
                "reward": reward,
                "unscorable_value": unscorable_value,
                "mode": mode,
            }

        messages = [
            (indices, make(indices), code)
            for indices, _, code in self._messages(rows, lambda chunk: {})  # chunking only
        ]
        n = len(queries)
        rewards: list[Any] = [unscorable_value] * n
        scores: list[Any] = [unscorable_value] * n
        logs: dict[str, list[Any]] = {"unscorable": [1.0] * n, "adhere_pass": [0.0] * n}
        for indices, body in self._raise_first_error(await self._run(messages, budget)):
            if isinstance(body, str) or "failed" in body:
                continue  # unscorable: the defaults above
            part = body["ok"]
            for j, i in enumerate(indices):
                rewards[i] = part["rewards"][j]
                scores[i] = part["scores"][j]
                for name, values in part.get("extra_logs", {}).items():
                    logs.setdefault(name, [None] * n)[i] = values[j]
        return {"rewards": rewards, "scores": scores, "extra_logs": logs}

    @staticmethod
    def _raise_first_error(
        answers: list[tuple[list[int], dict[str, Any] | str]],
    ) -> list[tuple[list[int], dict[str, Any] | str]]:
        """A label or reward error (the client's) as :class:`SpecError`, the first in row order."""
        errors = [(min(ix), body["error"]) for ix, body in answers if isinstance(body, dict) and "error" in body]
        if errors:
            _, err = min(errors, key=lambda e: e[0])
            raise SpecError(str(err.get("detail", "")), str(err.get("path", "")))
        return answers


def _group_key(row: Row) -> Hashable:
    """Rows of one rollout group share it: same prompt, same label (as the trainer sent them)."""
    try:
        label_key: Hashable = orjson.dumps(row[0])
    except TypeError:  # nested too deeply to encode: _encode names the row
        label_key = id(row)
    return (row[2], label_key)


def _encode(msg: dict[str, Any]) -> bytes:
    """The message as JSON; a label or reward that cannot be encoded is the client's 422."""
    try:
        return _frames.dumps(msg)
    except (TypeError, ValueError, RecursionError):
        pass
    if msg["op"] == "openrlhf":
        parts = [(label, f"labels[{i}]") for label, i in zip(msg["labels"], msg["index"], strict=True)]
    else:
        parts = [(row[0], row[3]) for row in msg["rows"]]
    for value, path in [*parts, (msg.get("reward"), "reward")]:
        try:
            _frames.dumps(value)
        except (TypeError, ValueError, RecursionError) as exc:
            raise SpecError(f"cannot be sent on to a worker: {type(exc).__name__}: {exc}", path) from None
    raise SpecError("the request cannot be sent on to a worker")


def _reap(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> int | None:
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
