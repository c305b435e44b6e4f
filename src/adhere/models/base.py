"""The ``Generator`` contract shared by every model backend, and the driver they share.

A generator turns prompts into completions. Every backend gets the same driver
(:class:`BaseGenerator`): bounded concurrency, an optional on-disk cache keyed by
(model, endpoint, prompt, sampling parameters, sample index), reasoning recorded
always and stripped only on request, and errors *recorded* on the completion instead
of raised, so one bad prompt never crashes a run and is never silently scored 0::

    gen = open_generator("openai:gpt-4o-mini", cache=default_cache_path())
    for per_prompt in gen.generate(["Say hi.", "Say bye."], n=3, params=GenParams(temperature=0.7)):
        for c in per_prompt:
            print(c.sample, c.text if c.ok else c.error)

Backends implement one coroutine, :meth:`BaseGenerator._complete`, that either
returns a :class:`RawOutput` or raises :class:`GenerationFailure` saying whether the
failure was transient (retried and exhausted) or permanent.
"""

from __future__ import annotations

import abc
import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

from ..text.transforms import strip_think
from ..verdict import Verdict

if TYPE_CHECKING:
    from .cache import ResponseCache

__all__ = [
    "BaseGenerator",
    "Completion",
    "ErrorKind",
    "GenParams",
    "GenerationFailure",
    "Generator",
    "Prompt",
    "RawOutput",
    "Request",
    "prompt_to_json",
    "requests_for",
    "run_sync",
]

ErrorKind = Literal["exhausted", "permanent"]
"""Why a sample has no completion. ``exhausted``: transient failures (429, 5xx, timeouts,
broken or unparseable bodies) outlived the retry budget, so a later re-run may succeed;
``permanent``: the request itself was refused (400, 401, 404, ...), retrying is pointless."""

Prompt = str | Sequence[Mapping[str, Any]]
"""A plain user prompt, or chat messages ``[{"role": ..., "content": ...}, ...]``."""

T = TypeVar("T")


def prompt_to_json(prompt: Prompt | Sequence[Any]) -> str | list[dict[str, Any]]:
    """A JSON-compatible, canonical form of a prompt (chat messages become plain dicts)."""
    if isinstance(prompt, str):
        return prompt
    out: list[dict[str, Any]] = []
    for message in prompt:
        if isinstance(message, Mapping):
            out.append({str(k): v for k, v in message.items()})
        else:  # adhere.subjects.Message and other objects with role/content
            out.append({"role": str(getattr(message, "role", "user")), "content": getattr(message, "content", message)})
    return out


@dataclass(frozen=True, slots=True)
class GenParams:
    """Sampling parameters; ``None`` means "the server's default" and is not sent.

    ``seed`` is a base seed: sample ``i`` of a prompt is requested with ``seed + i``, so
    several samples of one prompt differ while a re-run reproduces each of them.
    ``system`` is a system message prepended to chat prompts that have none.
    ``extra`` is merged into the request body as is (``{"top_k": 20}``,
    ``{"chat_template_kwargs": {"enable_thinking": False}}``, ...).
    """

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    system: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.temperature is not None and self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature!r}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be within (0, 1], got {self.top_p!r}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {self.max_tokens!r}")
        if isinstance(self.stop, str):  # a lone string is a common slip; keep it meaning one stop string
            object.__setattr__(self, "stop", (self.stop,))

    def sample_seed(self, sample: int) -> int | None:
        return None if self.seed is None else self.seed + sample

    def to_dict(self) -> dict[str, Any]:
        """The parameters that were set, JSON-compatible (for manifests and cache keys)."""
        out: dict[str, Any] = {}
        for name in ("temperature", "top_p", "max_tokens", "seed", "system"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.stop:
            out["stop"] = list(self.stop)
        if self.extra:
            out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GenParams:
        stop = data.get("stop")
        return cls(
            temperature=data.get("temperature"),
            top_p=data.get("top_p"),
            max_tokens=data.get("max_tokens"),
            stop=None if stop is None else tuple(stop),
            seed=data.get("seed"),
            system=data.get("system"),
            extra=dict(data.get("extra") or {}),
        )


@dataclass(frozen=True, slots=True)
class Request:
    """One completion to make: a prompt, which sample of it, and an opaque ``id`` echoed back.

    ``id`` is yours (the runner passes the suite's sample key); it does not enter the
    cache key, so the same prompt asked under two ids is generated once.
    """

    prompt: Prompt
    sample: int = 0
    id: Any = None


@dataclass(frozen=True, slots=True)
class RawOutput:
    """What a backend returns for one request before the driver adds bookkeeping."""

    raw: str
    reasoning: str | None = None
    finish_reason: str | None = None
    usage: Mapping[str, int] = field(default_factory=dict)
    attempts: int = 1


class GenerationFailure(Exception):
    """Raised by a backend's ``_complete`` when a request failed for good.

    The driver turns it into a :class:`Completion` with ``error`` set; it never
    escapes :meth:`BaseGenerator.stream`.
    """

    def __init__(self, message: str, kind: ErrorKind, attempts: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.kind: ErrorKind = kind
        self.attempts = attempts


@dataclass(frozen=True, slots=True)
class Completion:
    """One generated sample, or the recorded reason there is none.

    ``raw`` is the model's content exactly as returned (``<think>`` blocks included);
    ``reasoning`` is reasoning the server returned separately (``reasoning_content``);
    ``text`` is what gets scored: ``raw``, or ``raw`` with reasoning stripped when the
    generator was opened with ``strip_think=True``. When ``error`` is set the sample
    could not be generated; score it with :meth:`error_verdict` (unscorable), never as
    an empty response.
    """

    id: Any
    sample: int
    prompt: Prompt
    text: str
    raw: str
    model: str
    reasoning: str | None = None
    finish_reason: str | None = None
    usage: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None
    error_kind: ErrorKind | None = None
    attempts: int = 1
    cached: bool = False
    latency_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def error_verdict(self) -> Verdict:
        """The unscorable verdict for a sample the model backend could not produce."""
        if self.error is None:
            raise ValueError("error_verdict() is only meaningful for a failed completion")
        return Verdict.of(
            "model.generate",
            None,
            f"no response to score: the model backend failed ({self.error_kind}): {self.error}",
            {"error": self.error, "error_kind": self.error_kind, "attempts": self.attempts},
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible record, the natural row of a ``generations.jsonl`` file.

        :class:`~adhere.models.replay.ReplayGenerator` reads such rows back.
        """
        out: dict[str, Any] = {
            "key": self.id,
            "sample": self.sample,
            "prompt": prompt_to_json(self.prompt),
            "model": self.model,
            "response": self.text,
            "raw": self.raw,
            "reasoning": self.reasoning,
            "finish_reason": self.finish_reason,
            "usage": dict(self.usage),
            "error": self.error,
            "error_kind": self.error_kind,
            "attempts": self.attempts,
            "cached": self.cached,
            "latency_s": round(self.latency_s, 6),
        }
        return out


def requests_for(prompts: Sequence[Prompt], n: int = 1, ids: Sequence[Any] | None = None) -> list[Request]:
    """``n`` requests per prompt, prompt-major; ``id`` defaults to the prompt's index."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if ids is not None and len(ids) != len(prompts):
        raise ValueError(f"got {len(ids)} ids for {len(prompts)} prompts")
    keys: Sequence[Any] = ids if ids is not None else range(len(prompts))
    return [Request(p, s, k) for p, k in zip(prompts, keys, strict=True) for s in range(n)]


@runtime_checkable
class Generator(Protocol):
    """What the runner and LLM judges need from a model backend."""

    @property
    def name(self) -> str:
        """Identity of the model (``openai:gpt-4o``); part of every cache key."""
        ...

    def stream(self, requests: Iterable[Request], params: GenParams | None = None) -> AsyncIterator[Completion]:
        """Completions in the order they finish, each exactly once per request."""
        ...

    def generate(
        self, prompts: Sequence[Prompt], n: int = 1, params: GenParams | None = None
    ) -> list[list[Completion]]:
        """``n`` completions for each prompt, blocking; ``result[i][s]`` is sample ``s`` of prompt ``i``."""
        ...


def run_sync(make: Awaitable[T]) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop
    (Jupyter): then it runs on a private loop in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(make))
    box: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            box.append(asyncio.run(_await(make)))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="adhere-generate")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return box[0]


async def _await(aw: Awaitable[T]) -> T:
    return await aw


class BaseGenerator(abc.ABC):
    """The shared driver: concurrency, caching, reasoning handling, error recording.

    Subclasses set :attr:`name` and implement :meth:`_complete`; they may override
    :meth:`_session` to hold a resource (an HTTP client) for the length of one
    :meth:`stream` call, and :attr:`cache_identity` to add what else decides the
    output (the endpoint kind) to the cache key.
    """

    def __init__(
        self,
        name: str,
        *,
        concurrency: int = 8,
        cache: ResponseCache | None = None,
        strip_think: bool = False,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self._name = name
        self.concurrency = concurrency
        self.cache = cache
        self.strip_think = strip_think

    @property
    def name(self) -> str:
        return self._name

    @property
    def cache_identity(self) -> Mapping[str, Any]:
        """Everything besides prompt, parameters and sample index that decides an output."""
        return {"model": self._name}

    # -- what backends implement ----------------------------------------------------------------
    @abc.abstractmethod
    async def _complete(self, request: Request, params: GenParams) -> RawOutput:
        """Produce one completion or raise :class:`GenerationFailure`."""

    def _session(self) -> AbstractAsyncContextManager[object]:
        return _Session()

    # -- the driver -----------------------------------------------------------------------------------
    def _finish(self, request: Request, out: RawOutput, *, cached: bool, started: float) -> Completion:
        text = strip_think(out.raw) if self.strip_think else out.raw
        return Completion(
            id=request.id,
            sample=request.sample,
            prompt=request.prompt,
            text=text,
            raw=out.raw,
            model=self._name,
            reasoning=out.reasoning,
            finish_reason=out.finish_reason,
            usage=dict(out.usage),
            attempts=out.attempts,
            cached=cached,
            latency_s=time.perf_counter() - started,
        )

    def _failed(self, request: Request, failure: GenerationFailure, started: float) -> Completion:
        return Completion(
            id=request.id,
            sample=request.sample,
            prompt=request.prompt,
            text="",
            raw="",
            model=self._name,
            error=failure.message,
            error_kind=failure.kind,
            attempts=failure.attempts,
            latency_s=time.perf_counter() - started,
        )

    def _cache_key(self, request: Request, params: GenParams) -> str:
        from .cache import cache_key

        return cache_key(self.cache_identity, request.prompt, params, request.sample)

    async def complete_one(self, request: Request, params: GenParams) -> Completion:
        """One request through cache and backend; never raises for a backend failure."""
        started = time.perf_counter()
        key = None
        if self.cache is not None:
            key = self._cache_key(request, params)
            hit = self.cache.get(key)
            if hit is not None:
                return self._finish(request, hit, cached=True, started=started)
        try:
            out = await self._complete(request, params)
        except GenerationFailure as failure:
            return self._failed(request, failure, started)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or an unforeseen library error: record it, keep the batch
            return self._failed(
                request, GenerationFailure(f"unexpected {type(exc).__name__}: {exc}", "permanent"), started
            )
        if self.cache is not None and key is not None:
            self.cache.put(key, out, model=self._name)
        return self._finish(request, out, cached=False, started=started)

    async def stream(self, requests: Iterable[Request], params: GenParams | None = None) -> AsyncIterator[Completion]:
        """Yield one completion per request, in the order they finish.

        At most :attr:`concurrency` requests are in flight; ``requests`` is consumed
        lazily, so a million-request iterable costs no memory up front. Cache hits
        come back without touching the backend.
        """
        params = params or GenParams()
        source: Iterator[Request] = iter(requests)
        queue: asyncio.Queue[Completion | None] = asyncio.Queue(maxsize=4 * self.concurrency)
        async with self._session():
            crashed: list[Exception] = []
            stopping = False

            async def worker() -> None:
                try:
                    for request in source:  # shared iterator: each request taken by exactly one worker
                        await queue.put(await self.complete_one(request, params))
                        if stopping:
                            return
                except Exception as exc:  # our own bug (a broken cache, a bad request iterable)
                    crashed.append(exc)
                await queue.put(None)

            tasks = [asyncio.create_task(worker()) for _ in range(self.concurrency)]
            running = len(tasks)
            try:
                while running:
                    item = await queue.get()
                    if item is None:
                        running -= 1
                        continue
                    yield item
            finally:
                # The consumer is done (or left early). Some libraries can swallow one
                # cancellation (asyncio.wait_for on 3.10/3.11), so keep cancelling and keep
                # the queue drained until every worker has really ended.
                stopping = True
                pending = set(tasks)
                while pending:
                    while not queue.empty():
                        queue.get_nowait()
                    for task in pending:
                        task.cancel()
                    _, pending = await asyncio.wait(pending, timeout=0.05)
            if crashed:
                raise crashed[0]

    async def agenerate(
        self, prompts: Sequence[Prompt], n: int = 1, params: GenParams | None = None
    ) -> list[list[Completion]]:
        """``result[i][s]``: sample ``s`` of prompt ``i``."""
        out: list[list[Completion | None]] = [[None] * n for _ in prompts]
        async for c in self.stream(requests_for(prompts, n), params):
            out[c.id][c.sample] = c
        return [[c for c in row if c is not None] for row in out]

    def generate(
        self, prompts: Sequence[Prompt], n: int = 1, params: GenParams | None = None
    ) -> list[list[Completion]]:
        """Blocking form of :meth:`agenerate`."""
        return run_sync(self.agenerate(prompts, n, params))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, concurrency={self.concurrency})"


class _Session:
    """A no-op async context; backends with per-stream resources return their own."""

    async def __aenter__(self) -> _Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None
