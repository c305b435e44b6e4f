"""A scripted OpenAI-compatible model server on loopback, for tests (ours and yours).

A real HTTP/1.1 server (asyncio, in a background thread, keep-alive) that speaks
``POST /v1/chat/completions``, ``POST /v1/completions`` and ``GET /v1/models``. What
it answers is scripted; what it received is recorded::

    with FakeModelServer(script={"capital of France": ["Paris."]}) as server:
        gen = OpenAIGenerator("fake", base_url=server.base_url)
        ...
        assert server.count("capital of France") == 1

Each request is answered by the first of:

1. the global queue (:meth:`FakeModelServer.enqueue`), first in first out;
2. the first ``script`` rule whose key is a substring of the request's prompt: its
   replies are served in order, and the last one repeats;
3. ``responder(request)`` when given;
4. a default text that is a deterministic function of (prompt, seed, temperature).

A reply is a string or a :class:`Reply`: chosen text, status, ``Retry-After``,
delay, a body cut short, invalid JSON, a dropped connection, or a hang (the client
times out). Run it standalone with ``python -m adhere.testing --script FILE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["FakeModelServer", "Reply", "SeenRequest", "default_text"]

_WORDS = ("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "models", "answer")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    408: "Request Timeout",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build with the class methods for readability."""

    text: str = ""
    status: int = 200
    delay: float = 0.0
    retry_after: float | None = None
    truncate: bool = False
    body: bytes | None = None
    drop: bool = False
    reasoning: str | None = None
    finish_reason: str = "stop"

    @classmethod
    def ok(cls, text: str, *, delay: float = 0.0, reasoning: str | None = None) -> Reply:
        return cls(text=text, delay=delay, reasoning=reasoning)

    @classmethod
    def error(cls, status: int, message: str = "scripted error", *, retry_after: float | None = None) -> Reply:
        return cls(text=message, status=status, retry_after=retry_after)

    @classmethod
    def rate_limited(cls, retry_after: float = 0.05) -> Reply:
        return cls(text="rate limited", status=429, retry_after=retry_after)

    @classmethod
    def hang(cls, seconds: float = 30.0) -> Reply:
        """Answer nothing for ``seconds`` (the client's timeout should fire first)."""
        return cls(text="late", delay=seconds)

    @classmethod
    def truncated(cls, text: str = "this body is cut short") -> Reply:
        """Send headers promising the whole body, half of it, then close the connection."""
        return cls(text=text, truncate=True)

    @classmethod
    def invalid_json(cls) -> Reply:
        return cls(body=b'{"choices": [{"message": {"content": "unterminated')

    @classmethod
    def disconnect(cls) -> Reply:
        """Close the connection without answering."""
        return cls(drop=True)


@dataclass(frozen=True)
class SeenRequest:
    """One request the server received."""

    method: str
    path: str
    body: Mapping[str, Any]
    prompt: str
    index: int
    headers: Mapping[str, str] = field(default_factory=dict)
    received_at: float = field(default_factory=time.monotonic)

    @property
    def seed(self) -> int | None:
        seed = self.body.get("seed")
        return seed if isinstance(seed, int) else None


Responder = Callable[[SeenRequest], "Reply | str"]


def default_text(prompt: str, seed: int | None = None, temperature: float | None = None) -> str:
    """A deterministic pseudo-answer: same (prompt, seed, temperature), same text."""
    digest = hashlib.sha256(orjson.dumps([prompt, seed, temperature])).digest()
    count = 12 + digest[0] % 40
    words = [_WORDS[(digest[(i % 31) + 1] + i) % len(_WORDS)] for i in range(count)]
    return " ".join(words).capitalize() + "."


def _prompt_of(body: Mapping[str, Any]) -> str:
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):  # content parts
                    return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
                return str(content)
        return ""
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        return "".join(str(p) for p in prompt)
    return str(prompt) if prompt is not None else ""


class FakeModelServer:
    """A real HTTP server on ``127.0.0.1`` answering like an OpenAI-compatible API."""

    def __init__(
        self,
        script: Mapping[str, Sequence[Reply | str]] | None = None,
        *,
        responder: Responder | None = None,
        model: str = "fake",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._rules: list[tuple[str, list[Reply]]] = [
            (needle, [_as_reply(r) for r in replies]) for needle, replies in (script or {}).items()
        ]
        for needle, replies in self._rules:
            if not replies:
                raise ValueError(f"script rule {needle!r} has no replies")
        self._rule_hits = [0] * len(self._rules)
        self._queue: list[Reply] = []
        self.responder = responder
        self.model = model
        self.host = host
        self.port = port
        self._seen: list[SeenRequest] = []
        self._in_flight = 0
        self.max_in_flight = 0
        """The most completion requests the server was answering at once."""
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._handlers: set[asyncio.Task[None]] = set()
        self._startup_error: BaseException | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FakeModelServer:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="fake-model-server", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._startup_error is not None:
            raise self._startup_error
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread = None

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            self._server = loop.run_until_complete(asyncio.start_server(self._handle, self.host, self.port))
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._shutdown())
            loop.close()

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        await asyncio.sleep(0)  # let connections accepted just now start their handlers
        while self._handlers:
            handlers = list(self._handlers)
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            self._handlers.difference_update(handlers)
            await asyncio.sleep(0)
        await self._server.wait_closed()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: pass it as ``--base-url``."""
        return f"http://{self.host}:{self.port}/v1"

    # -- scripting and inspection ------------------------------------------------------------------
    def enqueue(self, *replies: Reply | str) -> None:
        """Serve these replies to the next requests, whatever their prompt."""
        with self._lock:
            self._queue.extend(_as_reply(r) for r in replies)

    @property
    def requests(self) -> list[SeenRequest]:
        with self._lock:
            return list(self._seen)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._seen)

    def count(self, needle: str = "") -> int:
        """How many completion requests had ``needle`` in their prompt."""
        with self._lock:
            return sum(needle in r.prompt for r in self._seen if r.method == "POST")

    def _choose(self, request: SeenRequest) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
            for i, (needle, replies) in enumerate(self._rules):
                if needle in request.prompt:
                    hit = self._rule_hits[i]
                    self._rule_hits[i] += 1
                    return replies[min(hit, len(replies) - 1)]
        if self.responder is not None:
            return _as_reply(self.responder(request))
        temperature = request.body.get("temperature")
        return Reply(text=default_text(request.prompt, request.seed, temperature))

    # -- HTTP -------------------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # shutting down: end quietly (asyncio would log a cancelled handler)
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection should close."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, path, *_ = [*lines[0].split(" "), "", ""]
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        raw = await reader.readexactly(length) if length else b""
        keep_alive = headers.get("connection", "").lower() != "close"

        if method == "GET" and path.rstrip("/").endswith("/models"):
            await self._send(writer, 200, {"object": "list", "data": [{"id": self.model, "object": "model"}]})
            return keep_alive
        kind = "chat" if path.rstrip("/").endswith("/chat/completions") else None
        if kind is None and path.rstrip("/").endswith("/completions"):
            kind = "completions"
        if method != "POST" or kind is None:
            await self._send(writer, 404, {"error": {"message": f"no route {method} {path}", "code": 404}})
            return keep_alive
        try:
            body = orjson.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("body is not an object")
        except (orjson.JSONDecodeError, ValueError) as exc:
            await self._send(writer, 400, {"error": {"message": f"invalid JSON body: {exc}", "code": 400}})
            return keep_alive

        with self._lock:
            seen = SeenRequest(method, path, body, _prompt_of(body), len(self._seen), headers)
            self._seen.append(seen)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            return await self._answer(writer, kind, body, seen, keep_alive)
        finally:
            with self._lock:
                self._in_flight -= 1

    async def _answer(
        self, writer: asyncio.StreamWriter, kind: str, body: Mapping[str, Any], seen: SeenRequest, keep_alive: bool
    ) -> bool:
        reply = self._choose(seen)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.drop:
            return False
        if reply.status != 200:
            extra = {"Retry-After": f"{reply.retry_after:g}"} if reply.retry_after is not None else {}
            error = {"error": {"message": reply.text, "type": "scripted", "code": reply.status}}
            await self._send(writer, reply.status, error, extra)
            return keep_alive
        if reply.body is not None:
            await self._send_bytes(writer, 200, reply.body, {})
            return keep_alive
        payload = self._completion(kind, body, seen, reply)
        if reply.truncate:
            data = orjson.dumps(payload)
            await self._send_bytes(writer, 200, data, {}, cut=len(data) // 2)
            return False
        await self._send(writer, 200, payload)
        return keep_alive

    def _completion(self, kind: str, body: Mapping[str, Any], seen: SeenRequest, reply: Reply) -> dict[str, Any]:
        usage = {
            "prompt_tokens": len(seen.prompt.split()),
            "completion_tokens": len(reply.text.split()),
            "total_tokens": len(seen.prompt.split()) + len(reply.text.split()),
        }
        model = body.get("model", self.model)
        if kind == "chat":
            message: dict[str, Any] = {"role": "assistant", "content": reply.text}
            if reply.reasoning is not None:
                message["reasoning_content"] = reply.reasoning
            choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": reply.finish_reason}
            obj = "chat.completion"
        else:
            choice = {"index": 0, "text": reply.text, "finish_reason": reply.finish_reason}
            obj = "text_completion"
        return {
            "id": f"fake-{seen.index}",
            "object": obj,
            "created": 0,
            "model": model,
            "choices": [choice],
            "usage": usage,
        }

    async def _send(
        self, writer: asyncio.StreamWriter, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> None:
        await self._send_bytes(writer, status, orjson.dumps(payload), headers or {})

    async def _send_bytes(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        data: bytes,
        headers: Mapping[str, str],
        cut: int | None = None,
    ) -> None:
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", "Content-Type: application/json"]
        head.append(f"Content-Length: {len(data)}")
        head.extend(f"{k}: {v}" for k, v in headers.items())
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        writer.write(data if cut is None else data[:cut])
        await writer.drain()


def _as_reply(value: Reply | str) -> Reply:
    return value if isinstance(value, Reply) else Reply(text=value)


def _load_script(path: str) -> dict[str, list[Reply | str]]:
    """A JSON script file: ``{"needle": ["text", {"status": 429, "retry_after": 1}, ...], ...}``."""
    with open(path, "rb") as handle:
        data = orjson.loads(handle.read())
    script: dict[str, list[Reply | str]] = {}
    for needle, replies in data.items():
        script[needle] = [r if isinstance(r, str) else Reply(**r) for r in replies]
    return script


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m adhere.testing [--port P] [--script FILE]``: serve until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(description="A scripted OpenAI-compatible server for tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", help="JSON file: {prompt substring: [reply, ...]}")
    args = parser.parse_args(argv)
    server = FakeModelServer(_load_script(args.script) if args.script else None, host=args.host, port=args.port)
    server.start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
