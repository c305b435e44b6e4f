"""The reward/verification HTTP service (FastAPI on uvicorn).

Built to hold under a training cluster's load: every verdict is computed in worker
processes (:mod:`._pool`), accepted work is bounded (429 + ``Retry-After`` beyond
``max_inflight``), request bodies are capped before they are read into memory, every
request has a deadline after which unfinished samples come back unscorable, and one bad
request never affects the next.

The hot endpoints read their body with orjson and validate it with the pydantic wire
models, and answer with orjson bytes: FastAPI's generic body parsing and response
re-validation cost more than the routing of a single-sample request. The OpenAPI schema
still documents (and schemathesis fuzzes) the same models. orjson refuses what is not
RFC 8259 JSON (NaN, lone surrogates) with a 4xx, so everything accepted can be sent
on to the workers and back without a serialisation failure.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations
# at run time, and ``Request`` is imported inside :func:`create_app` (fastapi is an extra).
import hmac
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from ..errors import AdhereError, SpecError
from . import _frames
from ._config import ServeConfig
from ._metrics import Metrics
from ._pool import Row, WorkerPool
from ._wire import OpenRLHFRequest, RewardRequest, RewardResponse, SampleIn, VerifyRequest, VerifyResponse

__all__ = ["create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

M = TypeVar("M", bound=BaseModel)
BODY_KEY = "adhere.body"
_OPEN_PATHS = frozenset({"/healthz", "/metrics", "/docs", "/openapi.json", "/docs/oauth2-redirect"})
_KNOWN_PATHS = _OPEN_PATHS | {"/v1/verify", "/v1/reward", "/v1/checks", "/get_reward"}


async def _send_json(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    hdrs += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": body})


async def _plain(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    await _send_json(send, status, orjson.dumps({"detail": detail}), headers)


class Load:
    """Requests accepted and not yet answered (read by /healthz and /metrics)."""

    inflight: int = 0


Endpoint = Callable[[bytes], Awaitable[Any]]
"""A JSON POST endpoint: the request body in, the response object out (4xx as exceptions)."""


class GuardMiddleware:
    """Body-size cap, API-key check and the in-flight bound, before any parsing; then the
    JSON POST endpoints themselves.

    Pure ASGI so an oversized body is refused while streaming, not after it was
    buffered, and so a 429 costs no JSON parsing at all. The endpoints in ``fast``
    (``/v1/verify``, ``/v1/reward``, ``/get_reward``) are answered right here, by the
    same functions their FastAPI routes call: FastAPI's per-request machinery (routing,
    dependency solving, exit stacks) costs more than everything else a single-sample
    request does in this process. Their routes stay for the OpenAPI schema.
    """

    def __init__(
        self, app: ASGIApp, config: ServeConfig, metrics: Metrics, load: Load, fast: dict[str, Endpoint]
    ) -> None:
        self.app = app
        self.config = config
        self.metrics = metrics
        self.load = load
        self.fast = fast

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
            endpoint = self.fast.get(scope.get("path", "")) if scope.get("method") == "POST" else None
            if endpoint is not None:
                status, payload = await answer(endpoint, body)
                self.metrics.inc("requests_total", path=route, status=str(status))
                await _send_json(send, status, payload)
                return
            scope[BODY_KEY] = body  # the routes read it from here, without a replay
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


class BadRequest(Exception):
    """A request the client must fix: answered with ``status`` and ``detail`` (no traceback, no 5xx)."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail


async def answer(endpoint: Endpoint, body: bytes) -> tuple[int, bytes]:
    """(status, JSON body): the endpoint's answer, or the client's error as a 4xx naming the problem.

    Anything else is our bug and propagates (a 500 from the framework's error handler).
    """
    try:
        return 200, _frames.dumps(await endpoint(body))
    except BadRequest as exc:
        return exc.status, orjson.dumps({"detail": exc.detail})
    except AdhereError as exc:
        if not isinstance(exc, ValueError):
            raise
        return 422, orjson.dumps({"detail": str(exc), "path": getattr(exc, "path", "")})


def _json(status: int, body: bytes) -> Any:
    from fastapi.responses import Response

    return Response(body, status_code=status, media_type="application/json")


def _parse(body: bytes, model: type[M]) -> M:
    """The body as ``model``: RFC 8259 JSON (orjson), validated by pydantic, else a 422 naming the problem."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(422, f"the request body is not valid JSON: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(422, exc.errors(include_url=False, include_context=False, include_input=False)) from None


def _rows(samples: Sequence[SampleIn]) -> list[Row]:
    """(label, response, prompt, path) per sample; a spec is the label ``{"spec": ...}``."""
    rows: list[Row] = []
    for i, s in enumerate(samples):
        if s.label is not None:
            if s.spec is not None:
                raise SpecError("give either 'spec' or 'label', not both", f"samples[{i}]")
            rows.append((s.label, s.response, s.prompt, f"samples[{i}].label"))
        elif s.spec is not None:
            rows.append(({"spec": s.spec}, s.response, s.prompt, f"samples[{i}]"))
        else:
            raise SpecError("each sample needs a 'spec' or a 'label'", f"samples[{i}]")
    return rows


def _env_float(name: str) -> float | None:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise SpecError(f"{name} must be a number, got {raw!r}") from None


_BODIES: dict[str, type[BaseModel]] = {
    "/v1/verify": VerifyRequest,
    "/v1/reward": RewardRequest,
    "/get_reward": OpenRLHFRequest,
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "The body exceeds the size limit."},
    422: {"description": "Malformed JSON, a bad field, label, spec or reward; the detail names it."},
    429: {"description": "Too many requests in flight; retry after `Retry-After` seconds."},
}


def _document_bodies(app: Any) -> None:
    """Put the wire models in the OpenAPI schema as the hot endpoints' request bodies.

    Those endpoints read their body themselves (see the module docstring), so FastAPI
    cannot see the models; the schema must still say what they take.
    """
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return dict(app.openapi_schema)
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for path, model in _BODIES.items():
            js = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(js.pop("$defs", {}))
            components[model.__name__] = js
            schema["paths"][path]["post"]["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
            }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


def create_app(config: ServeConfig | None = None) -> Any:
    """The FastAPI application (import needs the ``serve`` extra)."""
    from ..errors import require

    require("fastapi", "serve")
    from fastapi import FastAPI, Request
    from fastapi.responses import PlainTextResponse

    cfg = config or ServeConfig()
    metrics = Metrics()
    metrics.describe("requests_total", "HTTP requests by path and status")
    metrics.describe("request_seconds", "HTTP request latency")
    metrics.describe("samples_total", "samples judged, by outcome")
    state: dict[str, WorkerPool] = {}

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        pool = WorkerPool(
            cfg.workers, cfg.sandbox_workers, cfg.min_chunk, cfg.max_chunk, sandbox_active=cfg.sandbox_active
        )
        await pool.start()
        state["pool"] = pool
        yield
        await pool.close()

    app = FastAPI(
        title="adhere",
        version=_version(),
        description="Deterministic verification and rewards for LLM outputs.",
        lifespan=lifespan,
    )
    load = Load()
    fast: dict[str, Endpoint] = {}
    app.add_middleware(GuardMiddleware, config=cfg, metrics=metrics, load=load, fast=fast)
    _document_bodies(app)

    def pool_state(read: Callable[[WorkerPool], float]) -> Callable[[], float]:
        return lambda: read(state["pool"]) if "pool" in state else 0.0

    metrics.describe("inflight_requests", "requests accepted and not yet answered")
    metrics.gauge("inflight_requests", lambda: float(load.inflight))
    metrics.describe("pool_workers", "judging worker processes alive")
    metrics.gauge("pool_workers", pool_state(lambda p: float(len(p.pids))))
    metrics.describe("pool_worker_restarts", "worker processes replaced after they ended")
    metrics.gauge("pool_worker_restarts", pool_state(lambda p: float(p.restarts)))
    metrics.describe("queue_text_rows", "text rows sent to workers and not yet answered")
    metrics.gauge("queue_text_rows", pool_state(lambda p: float(p.text_rows)))
    metrics.describe("queue_code_rows", "code-test rows sent to workers and not yet answered")
    metrics.gauge("queue_code_rows", pool_state(lambda p: float(p.code_rows)))
    metrics.describe("sandbox_slots", "sandbox zygotes (concurrent code jobs) over all workers")
    metrics.gauge("sandbox_slots", pool_state(lambda p: float(len(p.pids) * max(1, p.sandbox_workers))))
    metrics.describe("sandbox_active_slots", "of those, the slots taking jobs at any time (the rest are overflow)")
    metrics.gauge("sandbox_active_slots", pool_state(lambda p: float(len(p.pids) * max(1, p.sandbox_active))))

    @app.exception_handler(AdhereError)
    async def _adhere_error(request: Request, exc: AdhereError) -> Any:
        status = 422 if isinstance(exc, ValueError) else 500
        return _json(status, orjson.dumps({"detail": str(exc), "path": getattr(exc, "path", "")}))

    def budget_of(deadline_s: float | None) -> float:
        return min(deadline_s or cfg.deadline_s, cfg.deadline_s)

    def check_batch(n: int, what: str) -> None:
        if n > cfg.max_batch:
            raise SpecError(f"a request holds at most {cfg.max_batch} {what}; got {n}", what)

    def count(outcomes: Sequence[str]) -> None:
        for outcome, n in Counter(outcomes).items():
            metrics.inc("samples_total", float(n), outcome=outcome)

    async def verify_body(body: bytes) -> Any:
        t0 = time.perf_counter()
        req = _parse(body, VerifyRequest)
        check_batch(len(req.samples), "samples")
        verdicts = await state["pool"].verify(_rows(req.samples), "strict", budget_of(req.deadline_s))
        count([v["outcome"] for v in verdicts])
        results = [
            {"outcome": v["outcome"], "score": v["score"], "reason": v.get("reason", ""), "verdict": v}
            for v in verdicts
        ]
        return {"results": results, "elapsed_s": time.perf_counter() - t0}

    async def reward_body(body: bytes) -> Any:
        t0 = time.perf_counter()
        req = _parse(body, RewardRequest)
        check_batch(len(req.samples), "samples")
        judged = await state["pool"].reward(_rows(req.samples), req.reward, req.mode, budget_of(req.deadline_s))
        count([outcome for _, _, outcome in judged])
        fallback = req.unscorable_value
        return {
            "rewards": [r if r is not None else fallback for r, _, _ in judged],
            "unscorable": [r is None for r, _, _ in judged],
            "reasons": [why for _, why, _ in judged],
            "elapsed_s": time.perf_counter() - t0,
        }

    async def openrlhf_body(body: bytes) -> Any:
        req = _parse(body, OpenRLHFRequest)
        n = len(req.query)
        check_batch(n, "query")
        for name in ("prompts", "labels"):
            if len(getattr(req, name)) != n:
                raise SpecError(f"'{name}' must be a list with one entry per query ({n})", name)
        prompts = [p if isinstance(p, str) else "" for p in req.prompts]
        unscorable = _env_float("ADHERE_UNSCORABLE_VALUE")
        out = await state["pool"].openrlhf(
            req.query,
            prompts,
            req.labels,
            os.environ.get("ADHERE_REWARD") or "binary",
            0.0 if unscorable is None else unscorable,
            os.environ.get("ADHERE_MODE") or "strict",
            budget_of(None),
        )
        count(["unscorable" if f else "judged" for f in out["extra_logs"].get("unscorable", [])])
        return out

    fast.update({"/v1/verify": verify_body, "/v1/reward": reward_body, "/get_reward": openrlhf_body})

    async def route(request: Request, endpoint: Endpoint) -> Any:
        body = request.scope.get(BODY_KEY)
        return _json(*await answer(endpoint, body if body is not None else await request.body()))

    @app.post("/v1/verify", response_model=VerifyResponse, responses=_ERRORS)
    async def verify(request: Request) -> Any:
        """Judge a batch of samples; one verdict tree per sample, in order."""
        return await route(request, verify_body)

    @app.post("/v1/reward", response_model=RewardResponse, responses=_ERRORS)
    async def reward(request: Request) -> Any:
        """A reward per sample (``reward``: a declaration, default ``"binary"``; a label's own
        ``"reward"`` wins). Unscorable samples are null unless you choose ``unscorable_value``."""
        return await route(request, reward_body)

    @app.post("/get_reward", responses=_ERRORS)
    async def get_reward(request: Request) -> Any:
        """OpenRLHF's remote reward protocol: ``{"query", "prompts", "labels"}`` in;
        ``{"rewards", "scores", "extra_logs"}`` out (see :mod:`adhere.integrations.openrlhf`).
        Unscorable rows get ``ADHERE_UNSCORABLE_VALUE`` (default 0.0) and ``extra_logs.unscorable = 1``."""
        return await route(request, openrlhf_body)

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
        pool = state.get("pool")
        pids = pool.pids if pool is not None else []
        return {"status": "ok", "workers": len(pids), "worker_pids": pids, "inflight": load.inflight}

    @app.get("/metrics", response_class=PlainTextResponse)
    async def prometheus() -> str:
        return metrics.render()

    return app


def _version() -> str:
    from .. import __version__

    return __version__
