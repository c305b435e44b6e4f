"""The reward/verification HTTP service (FastAPI on uvicorn).

Built to hold under a training cluster's load: text checks run in a process pool,
accepted work is bounded (429 + ``Retry-After`` beyond ``max_inflight``), request bodies
are capped before they are read into memory, every request has a deadline after which
unfinished samples come back unscorable, and one bad request never affects the next.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import orjson

from ..errors import AdhereError, SpecError
from ..verdict import Verdict
from ._config import ServeConfig
from ._metrics import Metrics
from ._pool import TextItem, VerifyPool, spec_key
from ._wire import RewardRequest, RewardResponse, SampleIn, SampleResult, VerifyRequest, VerifyResponse

__all__ = ["create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_OPEN_PATHS = frozenset({"/healthz", "/metrics", "/docs", "/openapi.json", "/docs/oauth2-redirect"})
_KNOWN_PATHS = _OPEN_PATHS | {"/v1/verify", "/v1/reward", "/v1/checks", "/get_reward"}


async def _plain(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = orjson.dumps({"detail": detail})
    hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    hdrs += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": body})


class Load:
    """Requests accepted and not yet answered (read by /healthz and /metrics)."""

    inflight: int = 0


class GuardMiddleware:
    """Body-size cap, API-key check and the in-flight bound, before any parsing.

    Pure ASGI so an oversized body is refused while streaming, not after it was
    buffered, and so a 429 costs no JSON parsing at all.
    """

    def __init__(self, app: ASGIApp, config: ServeConfig, metrics: Metrics, load: Load) -> None:
        self.app = app
        self.config = config
        self.metrics = metrics
        self.load = load

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        route = path if path in _KNOWN_PATHS else "other"
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.config.api_key and path not in _OPEN_PATHS:
            given = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), self.config.api_key.encode()):
                self.metrics.inc("requests_total", path=route, status="401")
                await _plain(send, 401, "missing or wrong API key (send 'Authorization: Bearer <key>')")
                return
        limit = self.config.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            self.metrics.inc("requests_total", path=route, status="413")
            await _plain(send, 413, f"request body of {declared} bytes exceeds the limit of {limit} bytes")
            return
        if scope.get("method") == "POST" and self.load.inflight >= self.config.max_inflight:
            self.metrics.inc("requests_total", path=route, status="429")
            await _plain(
                send,
                429,
                f"server busy: {self.load.inflight} requests in flight (limit {self.config.max_inflight}); retry later",
                {"retry-after": str(self.config.retry_after_s)},
            )
            return

        counted = scope.get("method") == "POST"
        if counted:  # a request holds its slot from the first byte: uploads cost memory too
            self.load.inflight += 1
        t0 = time.perf_counter()
        try:
            await self._serve(scope, receive, send, route, limit)
        finally:
            if counted:
                self.load.inflight -= 1
            self.metrics.observe("request_seconds", time.perf_counter() - t0, path=route)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, route: str, limit: int) -> None:
        body = b""
        if scope.get("method") in ("POST", "PUT", "PATCH"):
            # Read the body here, capped, so an oversized one is refused while streaming.
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # client went away
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    self.metrics.inc("requests_total", path=route, status="413")
                    await _plain(send, 413, f"request body exceeds the limit of {limit} bytes")
                    return
                chunks.append(chunk)
                more = bool(message.get("more_body", False))
            body = b"".join(chunks)
        replayed = False

        async def replay_receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.metrics.inc("requests_total", path=route, status=str(message["status"]))
            await send(message)

        await self.app(scope, replay_receive, tracking_send)


def _spec_json(sample: SampleIn, index: int) -> str:
    """Validate a sample's spec or label now (4xx on error) and return canonical JSON."""
    return spec_key(sample.spec, sample.label, sample.prompt, f"samples[{index}]")


def create_app(config: ServeConfig | None = None) -> Any:
    """The FastAPI application (import needs the ``serve`` extra)."""
    from ..errors import require

    require("fastapi", "serve")
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, PlainTextResponse

    cfg = config or ServeConfig()
    metrics = Metrics()
    metrics.describe("requests_total", "HTTP requests by path and status")
    metrics.describe("request_seconds", "HTTP request latency")
    metrics.describe("samples_total", "samples judged, by outcome")
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        pool = VerifyPool(cfg.workers, cfg.chunk)
        await asyncio.get_running_loop().run_in_executor(None, pool.warm_up)
        state["pool"] = pool
        yield
        pool.close()

    app = FastAPI(
        title="adhere",
        version=_version(),
        description="Deterministic verification and rewards for LLM outputs.",
        lifespan=lifespan,
    )
    load = Load()
    app.add_middleware(GuardMiddleware, config=cfg, metrics=metrics, load=load)
    metrics.gauge("inflight_requests", lambda: float(load.inflight))
    metrics.gauge("pool_workers", lambda: float(cfg.workers))
    metrics.gauge("pool_busy_batches", lambda: float(state["pool"].busy) if "pool" in state else 0.0)

    @app.exception_handler(AdhereError)
    async def _adhere_error(request: Request, exc: AdhereError) -> JSONResponse:
        status = 422 if isinstance(exc, (SpecError, ValueError)) else 500
        path = getattr(exc, "path", "")
        return JSONResponse({"detail": str(exc), "path": path}, status_code=status)

    async def judge(samples: list[SampleIn], deadline_s: float | None) -> list[dict[str, Any]]:
        items: list[TextItem] = [(_spec_json(s, i), s.response, s.prompt) for i, s in enumerate(samples)]
        budget = min(deadline_s or cfg.deadline_s, cfg.deadline_s)
        pool: VerifyPool = state["pool"]
        try:
            verdicts = await asyncio.wait_for(pool.verify(items), timeout=budget)
        except asyncio.TimeoutError:
            reason = f"deadline of {budget:g}s exceeded before this sample was judged"
            verdicts = [Verdict.of("deadline", None, reason).to_dict() for _ in items]
        for v in verdicts:
            metrics.inc("samples_total", outcome=str(v["outcome"]))
        return verdicts

    def check_batch(n: int) -> None:
        if n > cfg.max_batch:
            raise SpecError(f"a request holds at most {cfg.max_batch} samples; got {n} (split the batch)", "samples")

    @app.post("/v1/verify", response_model=VerifyResponse)
    async def verify(req: VerifyRequest) -> Any:
        """Judge a batch of samples; one verdict tree per sample, in order."""
        t0 = time.perf_counter()
        check_batch(len(req.samples))
        verdicts = await judge(req.samples, req.deadline_s)
        results = [
            SampleResult(outcome=v["outcome"], score=v["score"], reason=v.get("reason", ""), verdict=v)
            for v in verdicts
        ]
        return VerifyResponse(results=results, elapsed_s=time.perf_counter() - t0)

    @app.post("/v1/reward", response_model=RewardResponse)
    async def reward(req: RewardRequest) -> Any:
        """A float per sample (the verdict's score); unscorable samples are null unless you pick a value."""
        t0 = time.perf_counter()
        check_batch(len(req.samples))
        verdicts = await judge(req.samples, req.deadline_s)
        rewards = [v["score"] if v["score"] is not None else req.unscorable_value for v in verdicts]
        return RewardResponse(
            rewards=rewards,
            unscorable=[v["score"] is None for v in verdicts],
            reasons=[v.get("reason", "") for v in verdicts],
            elapsed_s=time.perf_counter() - t0,
        )

    @app.get("/v1/checks")
    async def checks(q: str = "", tag: str | None = None) -> Any:
        """The check catalog with parameter schemas."""
        from ..registry import REGISTRY

        return {
            "checks": [
                {
                    "id": c.id,
                    "version": c.version,
                    "subject": c.subject,
                    "description": c.description,
                    "tags": sorted(c.tags),
                    "params": c.schema(),
                }
                for c in REGISTRY.search(q, [tag] if tag else [])
            ]
        }

    @app.get("/healthz")
    async def healthz() -> Any:
        return {"status": "ok", "workers": cfg.workers, "inflight": load.inflight}

    @app.get("/metrics", response_class=PlainTextResponse)
    async def prometheus() -> str:
        return metrics.render()

    return app


def _version() -> str:
    from .. import __version__

    return __version__
