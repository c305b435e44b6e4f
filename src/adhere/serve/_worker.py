"""A judging worker process of ``adhere serve`` (``python -m adhere.serve._worker FD SLOTS [ACTIVE]``).

The server's event loop only parses requests and routes rows; every verdict is computed
in one of these processes. Each worker talks to the server over one socket of length-
prefixed frames (:mod:`._frames`), and:

* judges text rows on its main thread, one message at a time, **smallest message
  first**, so a single-sample request is not queued behind a 4,000-row batch that
  arrived a moment earlier;
* hands code-test rows to its own sandbox executor and goes on reading, so a program
  that loops until its time limit holds one sandbox slot, not the worker;
* skips messages whose deadline passed before their turn (the server has already
  answered them unscorable) and drops code work the server cancels;
* turns its own failures into unscorable verdicts with the reason, and label or reward
  errors into a reply naming the path (a 4xx for the client), never a crash.

It ignores SIGINT and SIGTERM: a Ctrl-C in the server's terminal reaches the whole
process group, and the server finishes in-flight requests before it closes the socket.
End of file on the socket (the server closed it or died) ends the worker.
"""

from __future__ import annotations

import array
import asyncio
import fcntl
import heapq
import importlib
import os
import signal
import socket
import sys
import termios
import time
from typing import Any

from ..errors import SpecError
from . import _frames
from ._judge import Judge, Row, internal_verdict

__all__ = ["main"]


_SHORT = 16
"""Rows of a message judged without first writing the answers already made."""
_HOLD_S = 0.002
"""Longest an answer waits for the answers after it."""
_DRAIN_ROUNDS = 256
"""At most this many socket reads (256 KiB each) between two messages: 64 MiB, four request caps."""


def unread_bytes(sock: socket.socket) -> int:
    """Bytes waiting in the socket's receive buffer (``FIONREAD``); 0 when the socket is gone."""
    buf = array.array("i", [0])
    try:
        fcntl.ioctl(sock.fileno(), termios.FIONREAD, buf)
    except (OSError, ValueError):
        return 0
    return buf[0]


class _Worker:
    def __init__(self, judge: Judge, sock: socket.socket | None = None) -> None:
        self.transport: asyncio.Transport | None = None
        self.sock = sock
        self.judge = judge
        self.queue: list[tuple[int, int, int, dict[str, Any]]] = []
        self.seq = 0
        self.wake = asyncio.Event()
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.out: list[bytes] = []
        self.out_since = 0.0
        self.draining = False

    # -- the socket ---------------------------------------------------------------------------
    def reply(self, mid: int, body: dict[str, Any]) -> None:
        """Answer a message; while draining the queue, answers are written together (see :meth:`run_queue`)."""
        if not self.out:
            self.out_since = time.monotonic()
        self.out.append(_frames.frame(mid, _frames.dumps(body)))
        if not self.draining:
            self.flush()

    def flush(self) -> None:
        if self.out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(self.out))
        self.out.clear()

    def accept(self, mid: int, payload: bytes) -> None:
        try:
            msg = _frames.loads(payload)
        except (ValueError, RecursionError) as exc:  # nested beyond any decoder: the client's 422
            self.reply(mid, {"error": {"detail": f"cannot be decoded: {type(exc).__name__}: {exc}", "path": ""}})
            return
        if msg.get("op") == "cancel":
            task = self.tasks.pop(int(msg["id"]), None)
            if task is not None:
                task.cancel()
            return
        size = len(msg.get("rows") or msg.get("labels") or ())
        self.seq += 1
        heapq.heappush(self.queue, (size, self.seq, mid, msg))
        self.wake.set()

    async def run_queue(self) -> None:
        """Judge waiting messages, smallest first; answers leave in one write per burst.

        Every write wakes the server, and on a busy machine a wake-up costs more than
        judging a short text, so the answers of a burst of small messages are written
        together: when the queue is empty, before a long message, or after
        :data:`_HOLD_S` at the latest.
        """
        while True:
            await self.wake.wait()
            self.wake.clear()
            self.draining = True
            try:
                await self.read_waiting()
                while self.queue:
                    if self.out and (self.queue[0][0] > _SHORT or time.monotonic() - self.out_since > _HOLD_S):
                        self.flush()
                    _, _, mid, msg = heapq.heappop(self.queue)
                    self.handle(mid, msg)
                    await self.read_waiting()
            finally:
                self.draining = False
            self.flush()

    async def read_waiting(self) -> None:
        """Let every frame already in the socket join the queue before the next message is chosen.

        The event loop reads at most 256 KiB per iteration, and a 4,000-row batch is megabytes
        of frames: read one iteration per judged message, a one-sample request sent just after
        it would sit unread behind the batch's bytes and the smallest-first order would not see it.
        """
        await asyncio.sleep(0)
        if self.sock is None:
            return
        for _ in range(_DRAIN_ROUNDS):
            if unread_bytes(self.sock) == 0:
                return
            await asyncio.sleep(0)

    # -- one message ----------------------------------------------------------------------------
    def handle(self, mid: int, msg: dict[str, Any]) -> None:
        deadline = msg.get("deadline")
        if deadline is not None and time.monotonic() > deadline:
            self.reply(mid, {"expired": True})
            return
        op = msg["op"]
        try:
            if op == "openrlhf":
                self._openrlhf(mid, msg)
                return
            rows: list[Row] = [tuple(r) for r in msg["rows"]]
            items = self.judge.items(rows, msg.get("mode", "strict"))
            reward = self.judge.reward(msg["reward"]) if op == "reward" else None
        except SpecError as exc:
            self.reply(mid, {"error": {"detail": exc.message, "path": exc.path}})
            return
        if self.judge.has_code([i.label for i in items]):
            self.tasks[mid] = asyncio.create_task(self._acode(mid, op, items, reward))
            return
        try:
            if reward is not None:
                self.reply(mid, _rewards(self.judge.score(items, reward)))
            else:
                self.reply(mid, _verdicts(self.judge.verdicts(items)))
        except Exception as exc:  # our bug: the rows are unscorable with the reason, the worker goes on
            self.reply(mid, _failed(op, len(items), exc))

    async def _acode(self, mid: int, op: str, items: list[Any], reward: Any) -> None:
        try:
            if reward is not None:
                body = _rewards(await self.judge.ascore(items, reward))
            else:
                body = _verdicts(await self.judge.averdicts(items))
        except asyncio.CancelledError:
            return  # the server gave up on these rows (deadline); nobody waits for an answer
        except Exception as exc:
            body = _failed(op, len(items), exc)
        finally:
            self.tasks.pop(mid, None)
        self.reply(mid, body)

    def _openrlhf(self, mid: int, msg: dict[str, Any]) -> None:
        """OpenRLHF's exchange for these rows (labels validated first: a bad one is the client's 4xx)."""
        from ..integrations.openrlhf import aget_reward, get_reward

        mode = msg.get("mode") or "strict"
        labels = [
            self.judge.label(raw, mode, f"labels[{i}]") for raw, i in zip(msg["labels"], msg["index"], strict=True)
        ]
        payload = {"query": msg["query"], "prompts": msg["prompts"], "labels": labels}
        kwargs = {"reward": msg["reward"], "unscorable_value": msg.get("unscorable_value"), "mode": mode}
        if not self.judge.has_code(labels):
            body: dict[str, Any]
            try:
                body = {"ok": get_reward(payload, **kwargs)}
            except Exception as exc:  # our bug: the server answers these rows unscorable
                body = {"failed": f"{type(exc).__name__}: {exc}"}
            self.reply(mid, body)
            return

        async def code() -> None:
            body: dict[str, Any]
            try:
                executor = await self.judge.started_executor()
                body = {"ok": await aget_reward(payload, executor=executor, **kwargs)}
            except asyncio.CancelledError:
                return
            except Exception as exc:
                body = {"failed": f"{type(exc).__name__}: {exc}"}
            finally:
                self.tasks.pop(mid, None)
            self.reply(mid, body)

        self.tasks[mid] = asyncio.create_task(code())


def _rewards(scored: list[Any]) -> dict[str, Any]:
    """What /v1/reward needs of each row; the verdict trees stay here."""
    return {
        "rewards": [s.reward for s in scored],
        "reasons": [s.reason for s in scored],
        "outcomes": [s.verdict.outcome for s in scored],
    }


def _verdicts(verdicts: list[Any]) -> dict[str, Any]:
    return {"verdicts": [v.to_dict() for v in verdicts]}


def _failed(op: str, n: int, exc: Exception) -> dict[str, Any]:
    v = internal_verdict(f"{type(exc).__name__}: {exc}")
    if op == "reward":
        return {"rewards": [None] * n, "reasons": [v.reason] * n, "outcomes": [v.outcome] * n}
    return {"verdicts": [v.to_dict()] * n}


async def _serve(sock: socket.socket, sandbox_workers: int, sandbox_active: int = 0) -> None:
    lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_lost() -> None:
        if not lost.done():
            lost.set_result(None)

    judge = Judge(sandbox_workers or None, sandbox_active or None)
    worker = _Worker(judge, sock)
    worker.transport = await _frames.connect(sock, worker.accept, on_lost)
    runner = asyncio.create_task(worker.run_queue())
    worker.reply(0, {"ready": os.getpid()})
    try:
        await lost
    finally:
        runner.cancel()
        for task in list(worker.tasks.values()):
            task.cancel()
        await asyncio.to_thread(judge.close)


def _warm() -> None:
    """Imports and the check registry now, so the first request does not pay for them."""
    from ..labels import parse_label
    from ..registry import REGISTRY

    len(REGISTRY)
    parse_label({"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]})


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    fd, sandbox_workers = int(args[0]), int(args[1]) if len(args) > 1 else 0
    sandbox_active = int(args[2]) if len(args) > 2 else 0
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sock = socket.socket(fileno=fd)
    _warm()
    try:  # uvloop (with uvicorn[standard]) runs the frame traffic faster
        run: Any = importlib.import_module("uvloop").run
    except ImportError:
        run = asyncio.run
    run(_serve(sock, sandbox_workers, sandbox_active))


if __name__ == "__main__":
    main()
