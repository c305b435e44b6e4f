"""``adhere serve``: run the verification/reward server."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.", envvar="ADHERE_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.", envvar="ADHERE_PORT")] = 8000,
    workers: Annotated[int | None, typer.Option(help="Verification worker processes (default: cores).")] = None,
    sandbox_workers: Annotated[
        int | None, typer.Option(help="Sandbox slots (concurrent code jobs) per worker (default: 4 x cores / workers).")
    ] = None,
    max_inflight: Annotated[int | None, typer.Option(help="Requests accepted at once; beyond: 429.")] = None,
    deadline: Annotated[float | None, typer.Option(help="Per-request wall-time cap in seconds.")] = None,
    graceful_timeout: Annotated[float, typer.Option(help="Seconds to finish in-flight work on shutdown.")] = 30.0,
    ray: Annotated[
        bool, typer.Option("--ray", help="Serve as a Ray Serve application (replicas over a Ray cluster).")
    ] = False,
    replicas: Annotated[int, typer.Option(help="With --ray: copies of the server, each with its workers.")] = 1,
    ray_address: Annotated[
        str | None, typer.Option(help="With --ray: the cluster ('auto', 'ray://head:10001'); default: a local Ray.")
    ] = None,
) -> None:
    """Serve verification and rewards over HTTP (needs: pip install 'adhere[serve]')."""
    from dataclasses import replace

    from ..errors import MissingExtraError, require
    from ..serve import ServeConfig, create_app

    try:
        uvicorn = require("uvicorn", "serve")
        cfg = ServeConfig()
        if workers is not None:
            cfg = replace(cfg, workers=workers)
        if sandbox_workers is not None:
            cfg = replace(cfg, sandbox_workers=sandbox_workers)
        if max_inflight is not None:
            cfg = replace(cfg, max_inflight=max_inflight)
        if deadline is not None:
            cfg = replace(cfg, deadline_s=deadline)
        if ray:
            from ..integrations.ray import serve_on_ray

            require("ray", "ray")
            serve_on_ray(cfg, host=host, port=port, replicas=replicas, address=ray_address)
            return
        app = create_app(cfg)
    except MissingExtraError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    uvicorn.run(  # type: ignore[attr-defined]
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=graceful_timeout,
        access_log=False,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
