"""An OpenAI-compatible HTTP backend: OpenAI, vLLM, SGLang, Ollama, llama.cpp, hosted APIs.

``openai:NAME`` talks to ``{base_url}/chat/completions`` (default) or
``{base_url}/completions`` (``endpoint="completions"``, raw prompts without a chat
template). One request per (prompt, sample): per-sample seeds and per-sample cache
entries stay simple and every server supports it.

Failure handling (see :mod:`adhere.models.retry`): transient errors are retried
with backoff; a permanent error, or a transient one that outlived the retry budget,
ends as a recorded error on the completion (an unscorable sample upstream).
"""

from __future__ import annotations

import asyncio
import os
import random
import ssl
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Literal

import httpx
import orjson

from .base import BaseGenerator, GenerationFailure, GenParams, Prompt, RawOutput, Request, prompt_to_json
from .retry import Pacer, RetryPolicy, is_transient_status, parse_retry_after

if TYPE_CHECKING:
    from .cache import ResponseCache

__all__ = ["DEFAULT_BASE_URL", "Endpoint", "OpenAIGenerator"]

Endpoint = Literal["chat", "completions"]
DEFAULT_BASE_URL = "https://api.openai.com/v1"
_ERROR_SNIPPET = 300


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _error_message(response: httpx.Response) -> str:
    """``HTTP 400: <the server's own message>``, short."""
    detail = ""
    try:
        body = orjson.loads(response.content)
        if isinstance(body, dict):
            err = body.get("error", body.get("detail", body.get("message")))
            if isinstance(err, dict):
                err = err.get("message", err)
            detail = str(err) if err is not None else ""
    except orjson.JSONDecodeError:
        detail = response.content[:_ERROR_SNIPPET].decode("utf-8", errors="replace")
    detail = " ".join(detail.split())[:_ERROR_SNIPPET]
    return f"HTTP {response.status_code}" + (f": {detail}" if detail else "")


class OpenAIGenerator(BaseGenerator):
    """Completions from an OpenAI-compatible server.

    The API key comes from ``api_key``, else ``$ADHERE_API_KEY``, else
    ``$OPENAI_API_KEY``; without one no ``Authorization`` header is sent (local
    servers need none). ``base_url`` defaults to ``$ADHERE_BASE_URL``, then
    ``$OPENAI_BASE_URL``, then OpenAI's.

    ``timeout`` bounds a whole attempt (connect, send, wait, read), so a server that
    trickles bytes cannot hold a worker forever. ``rate`` caps request starts per
    second across all workers.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        endpoint: Endpoint = "chat",
        concurrency: int = 8,
        timeout: float = 120.0,
        retry: RetryPolicy | None = None,
        rate: float | None = None,
        headers: Mapping[str, str] | None = None,
        cache: ResponseCache | None = None,
        strip_think: bool = False,
    ) -> None:
        if endpoint not in ("chat", "completions"):
            raise ValueError(f"endpoint must be 'chat' or 'completions', got {endpoint!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        super().__init__(f"openai:{model}", concurrency=concurrency, cache=cache, strip_think=strip_think)
        self.model = model
        self.base_url = (
            base_url or os.environ.get("ADHERE_BASE_URL") or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self._api_key = api_key or os.environ.get("ADHERE_API_KEY") or os.environ.get("OPENAI_API_KEY")
        self.endpoint: Endpoint = endpoint
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.pacer = Pacer(rate)
        self._headers = dict(headers or {})
        self._rng = random.Random()
        self._pools: dict[asyncio.AbstractEventLoop, _ClientPool] = {}
        self._ssl: ssl.SSLContext | None = None

    @property
    def cache_identity(self) -> Mapping[str, Any]:
        return {"model": self.name, "endpoint": self.endpoint}

    @property
    def url(self) -> str:
        return f"{self.base_url}/{'chat/completions' if self.endpoint == 'chat' else 'completions'}"

    # -- session: a pool of single-connection clients per event loop, shared by concurrent streams -----
    # One client per in-flight request keeps httpcore's pool bookkeeping O(1) per request (one
    # client with N connections rescans all of them on every request: 2x slower at N = 32).
    def _session(self) -> AbstractAsyncContextManager[object]:
        return _ClientSession(self)

    def _pool(self) -> _ClientPool:
        pool = self._pools.get(asyncio.get_running_loop())
        if pool is None:
            raise RuntimeError("OpenAIGenerator requests must run inside stream()/generate()")
        return pool

    def _new_client(self) -> httpx.AsyncClient:
        headers = {"User-Agent": "adhere", **self._headers}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()  # once: building one costs milliseconds
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        return httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(self.timeout), limits=limits, verify=self._ssl)

    # -- requests ----------------------------------------------------------------------------------------
    def body(self, request: Request, params: GenParams) -> dict[str, Any]:
        """The JSON body for one request (public so users can see exactly what is sent)."""
        body: dict[str, Any] = {"model": self.model}
        if self.endpoint == "chat":
            body["messages"] = _messages(request.prompt, params.system)
        else:
            body["prompt"] = _flatten_prompt(request.prompt, params.system)
        if params.temperature is not None:
            body["temperature"] = params.temperature
        if params.top_p is not None:
            body["top_p"] = params.top_p
        if params.max_tokens is not None:
            body["max_tokens"] = params.max_tokens
        if params.stop:
            body["stop"] = list(params.stop)
        seed = params.sample_seed(request.sample)
        if seed is not None:
            body["seed"] = seed
        body.update(params.extra)
        return body

    async def _complete(self, request: Request, params: GenParams) -> RawOutput:
        body = orjson.dumps(self.body(request, params))
        pool = self._pool()
        client = await pool.acquire()
        try:
            return await self._with_retries(client, body)
        finally:
            pool.release(client)

    async def _with_retries(self, client: httpx.AsyncClient, body: bytes) -> RawOutput:
        last = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            await self.pacer.wait()
            try:
                return await asyncio.wait_for(self._attempt(client, body, attempt), self.timeout)
            except _Transient as exc:
                last = exc.message
                retry_after = exc.retry_after
            except asyncio.TimeoutError:
                last = f"timed out after {self.timeout:g} s"
                retry_after = None
            except httpx.TimeoutException as exc:
                last = f"timed out ({type(exc).__name__})"
                retry_after = None
            except httpx.TransportError as exc:  # refused, reset, truncated body (RemoteProtocolError), ...
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                retry_after = None
            if attempt == self.retry.max_attempts:
                break
            wait = self.retry.delay(attempt, retry_after, self._rng)
            if retry_after is not None:
                self.pacer.cool_down(wait)
            await asyncio.sleep(wait)
        raise GenerationFailure(
            f"gave up after {self.retry.max_attempts} attempts; last error: {last}",
            "exhausted",
            self.retry.max_attempts,
        )

    async def _attempt(self, client: httpx.AsyncClient, body: bytes, attempt: int) -> RawOutput:
        response = await client.post(self.url, content=body, headers={"Content-Type": "application/json"})
        status = response.status_code
        if status != 200:
            message = _error_message(response)
            if is_transient_status(status):
                raise _Transient(message, parse_retry_after(response.headers.get("retry-after")))
            raise GenerationFailure(message, "permanent", attempt)
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            snippet = response.content[:80].decode("utf-8", errors="replace")
            raise _Transient(f"response body is not valid JSON ({len(response.content)} bytes: {snippet!r})") from None
        return self._parse(data, attempt)

    def _parse(self, data: Any, attempt: int) -> RawOutput:
        try:
            choice = data["choices"][0]
            if self.endpoint == "chat":
                message = choice["message"]
                content = message.get("content")
                reasoning = message.get("reasoning_content", message.get("reasoning"))
            else:
                content = choice["text"]
                reasoning = None
        except (KeyError, IndexError, TypeError):
            raise _Transient(f"response JSON has no choices[0] completion: {str(data)[:120]}") from None
        usage = data.get("usage") if isinstance(data, dict) else None
        return RawOutput(
            raw=content if isinstance(content, str) else "",
            reasoning=reasoning if isinstance(reasoning, str) and reasoning else None,
            finish_reason=choice.get("finish_reason"),
            usage={k: v for k, v in (usage or {}).items() if isinstance(v, int)},
            attempts=attempt,
        )


class _ClientPool:
    """Clients for one event loop: made on demand, at most ``size`` of them."""

    def __init__(self, gen: OpenAIGenerator) -> None:
        self.gen = gen
        self.idle: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        self.all: list[httpx.AsyncClient] = []
        self.refs = 0

    async def acquire(self) -> httpx.AsyncClient:
        if self.idle.empty() and len(self.all) < self.gen.concurrency:
            client = self.gen._new_client()
            self.all.append(client)
            return client
        return await self.idle.get()

    def release(self, client: httpx.AsyncClient) -> None:
        self.idle.put_nowait(client)

    async def close(self) -> None:
        for client in self.all:
            await client.aclose()


class _ClientSession:
    def __init__(self, gen: OpenAIGenerator) -> None:
        self.gen = gen

    async def __aenter__(self) -> _ClientSession:
        loop = asyncio.get_running_loop()
        pool = self.gen._pools.setdefault(loop, _ClientPool(self.gen))
        pool.refs += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        loop = asyncio.get_running_loop()
        pool = self.gen._pools[loop]
        pool.refs -= 1
        if pool.refs == 0:
            del self.gen._pools[loop]
            await pool.close()


def _messages(prompt: Prompt, system: str | None) -> list[dict[str, Any]]:
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt_to_json(prompt)
    assert isinstance(messages, list)
    if system is not None and not any(m.get("role") == "system" for m in messages):
        messages = [{"role": "system", "content": system}, *messages]
    return messages


def _flatten_prompt(prompt: Prompt, system: str | None) -> str:
    """A chat prompt sent to the completions endpoint: contents joined, no template."""
    if isinstance(prompt, str):
        text = prompt
    else:
        text = "\n\n".join(str(m.get("content", "")) for m in _messages(prompt, None))
    return f"{system}\n\n{text}" if system else text
