"""The reward/verification HTTP service (FastAPI on uvicorn).

Built to hold under a training cluster's load: text checks run in a process pool,
accepted work is bounded (429 + ``Retry-After`` beyond ``max_inflight``), request bodies
are capped before they are read into memory, every request has a deadline after which
unfinished samples come back unscorable, and one bad request never affects the next.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import orjson

from ..errors import AdhereError, SpecError
from ..verdict import Verdict
from ._config import ServeConfig
from ._metrics import Metrics
from ._pool import Row, VerifyPool, row_label
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


def _reward_json(reward: Any, path: str) -> str:
    """Validate a reward declaration (4xx on error) and return it as JSON for the workers."""
    from ..rewards import parse_reward

    parse_reward(reward, path)
    return orjson.dumps(reward).decode()


def _float(raw: str | None) -> float | None:
    return None if raw in (None, "") else float(raw)


def _check_openrlhf(body: Any, max_batch: int) -> None:
    """The OpenRLHF request's shape and every label, validated before any work (4xx on error)."""
    from ..labels import parse_label

    queries = body.get("query")
    if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
        raise SpecError("'query' must be a list of strings", "query")
    if len(queries) > max_batch:
        raise SpecError(f"a request holds at most {max_batch} queries; got {len(queries)}", "query")
    for name in ("prompts", "labels"):
        column = body.get(name)
        if not isinstance(column, list) or len(column) != len(queries):
            raise SpecError(f"'{name}' must be a list with one entry per query ({len(queries)})", name)
    for i, label in enumerate(body["labels"]):
        try:
            parse_label(label, path=f"labels[{i}]")
        except SpecError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise SpecError(f"malformed label: {type(exc).__name__}: {exc}", f"labels[{i}]") from None


def create_app(config: ServeConfig | None = None) -> Any:
    """The FastAPI application (import needs the ``serve`` extra)."""
    from ..errors import require

    require("fastapi", "serve")
    from fastapi import FastAPI, HTTPException, Request
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

    def budget_of(deadline_s: float | None) -> float:
        return min(deadline_s or cfg.deadline_s, cfg.deadline_s)

    def deadline_verdict(budget: float) -> dict[str, Any]:
        reason = f"deadline of {budget:g}s exceeded before this sample was judged"
        return Verdict.of("deadline", None, reason).to_dict()

    async def judge(
        samples: list[SampleIn], deadline_s: float | None, reward: Any = "binary", mode: str = "strict"
    ) -> list[tuple[dict[str, Any], float | None]]:
        if len(samples) > cfg.max_batch:
            raise SpecError(f"a request holds at most {cfg.max_batch} samples; got {len(samples)}", "samples")
        rows: list[Row] = [
            (row_label(s.spec, s.label, f"samples[{i}]", mode), s.response, s.prompt) for i, s in enumerate(samples)
        ]
        reward_json = _reward_json(reward, "reward")
        budget = budget_of(deadline_s)
        pool: VerifyPool = state["pool"]
        try:
            judged = await asyncio.wait_for(pool.judge(rows, reward_json, mode), timeout=budget)
        except asyncio.TimeoutError:
            judged = [(deadline_verdict(budget), None) for _ in rows]
        for v, _ in judged:
            metrics.inc("samples_total", outcome=str(v["outcome"]))
        return judged

    @app.post("/v1/verify", response_model=VerifyResponse)
    async def verify(req: VerifyRequest) -> Any:
        """Judge a batch of samples; one verdict tree per sample, in order."""
        t0 = time.perf_counter()
        judged = await judge(req.samples, req.deadline_s)
        results = [
            SampleResult(outcome=v["outcome"], score=v["score"], reason=v.get("reason", ""), verdict=v)
            for v, _ in judged
        ]
        return VerifyResponse(results=results, elapsed_s=time.perf_counter() - t0)

    @app.post("/v1/reward", response_model=RewardResponse)
    async def reward(req: RewardRequest) -> Any:
        """A reward per sample (``reward``: a declaration, default ``"binary"``; a label's own
        ``"reward"`` wins). Unscorable samples are null unless you choose ``unscorable_value``."""
        t0 = time.perf_counter()
        judged = await judge(req.samples, req.deadline_s, req.reward, req.mode)
        return RewardResponse(
            rewards=[r if r is not None else req.unscorable_value for _, r in judged],
            unscorable=[r is None for _, r in judged],
            reasons=[v.get("reason", "") for v, _ in judged],
            elapsed_s=time.perf_counter() - t0,
        )

    @app.post("/get_reward")
    async def get_reward(body: dict[str, Any]) -> Any:
        """OpenRLHF's remote reward protocol: ``{"query", "prompts", "labels"}`` in;
        ``{"rewards", "scores", "extra_logs"}`` out (see :mod:`adhere.integrations.openrlhf`).
        Unscorable rows get ``ADHERE_UNSCORABLE_VALUE`` (default 0.0) and ``extra_logs.unscorable = 1``."""
        _check_openrlhf(body, cfg.max_batch)
        reward_decl = os.environ.get("ADHERE_REWARD") or "binary"
        mode = os.environ.get("ADHERE_MODE") or "strict"
        unscorable = os.environ.get("ADHERE_UNSCORABLE_VALUE")
        pool: VerifyPool = state["pool"]
        budget = budget_of(None)
        try:
            out = await asyncio.wait_for(
                pool.openrlhf(body, _reward_json(reward_decl, "ADHERE_REWARD"), _float(unscorable), mode),
                timeout=budget,
            )
        except asyncio.TimeoutError:
            raise HTTPException(504, f"deadline of {budget:g}s exceeded") from None
        for flag in out["extra_logs"].get("unscorable", []):
            metrics.inc("samples_total", outcome="unscorable" if flag else "judged")
        return out

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
