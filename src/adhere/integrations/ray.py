"""Verification beyond one machine with Ray (extra ``ray``).

``verify_dataset`` maps a ``ray.data.Dataset`` of samples to verdicts and rewards with an
actor pool. Each actor is a long-lived process that keeps parsed specs (and, for code,
a sandbox executor) warm across batches, so a cluster verifies at the speed of its
cores rather than of process start-up. Trainers that already run on Ray (verl,
OpenRLHF) call into the same cluster; see ``docs/scale.md``.

Input rows carry ``response`` and ``prompt`` and either a ``spec``/``label`` column (the
label language of :mod:`adhere.labels`: specs, IFEval/IFBench rows, code tests) or
nothing (then the ``spec`` argument applies to every row). Output rows gain
``verdict`` (the verdict tree as a JSON string, lossless), ``outcome``, ``score`` and
``reward`` (the ``reward`` declaration's value; ``None`` for unscorable rows unless
``unscorable_value`` is given).

The server scales the same way: :func:`serve_deployment` is ``adhere serve`` as a Ray
Serve application (``adhere serve --ray``, or ``serve run
adhere.integrations.ray:serve_app`` on a cluster), with replicas spread over the nodes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

from ..errors import SpecError, require
from ..serve._judge import Judge

__all__ = ["VerifyActor", "serve_app", "serve_deployment", "serve_on_ray", "verify_dataset"]


class VerifyActor:
    """Ray Data callable class: one per actor, verifying batches in its own process.

    The actor's :class:`~adhere.serve._judge.Judge` keeps parsed labels across batches and
    owns the actor's sandbox executor (started on the first code-test row), exactly as a
    worker process of ``adhere serve`` does.
    """

    def __init__(
        self,
        label: Any | None,
        reward: Any = "binary",
        response_column: str = "response",
        prompt_column: str = "prompt",
        spec_column: str = "spec",
        label_column: str = "label",
        unscorable_value: float | None = None,
        mode: str = "strict",
        sandbox_workers: int | None = None,
    ) -> None:
        self.fixed_label = label
        self.response_column = response_column
        self.prompt_column = prompt_column
        self.spec_column = spec_column
        self.label_column = label_column
        self.unscorable_value = unscorable_value
        self.mode = mode
        self.judge = Judge(sandbox_workers)
        self.reward = self.judge.reward(reward)

    def _row_label(self, batch: Mapping[str, Any], i: int) -> tuple[Any, str]:
        if self.fixed_label is not None:
            return self.fixed_label, "spec"
        spec = _cell(batch, self.spec_column, i)
        label = _cell(batch, self.label_column, i)
        if spec is not None and label is not None:
            raise SpecError("give either a spec or a label column value, not both", f"row[{i}]")
        if spec is not None:
            if isinstance(spec, str):
                try:
                    spec = orjson.loads(spec)
                except orjson.JSONDecodeError as exc:
                    raise SpecError(f"a spec string must be JSON: {exc}", f"row[{i}].spec") from None
            return {"spec": spec}, f"row[{i}]"
        if label is not None:
            return label, f"row[{i}].label"
        raise SpecError(f"each row needs a '{self.spec_column}' or a '{self.label_column}' value", f"row[{i}]")

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        from ..rewards import RewardItem
        from ..verdict import Verdict

        responses = batch[self.response_column]
        n = len(responses)
        items: list[RewardItem] = []
        todo: list[int] = []
        verdicts: list[dict[str, Any]] = [{} for _ in range(n)]
        rewards: list[float | None] = [None] * n
        for i in range(n):
            prompt = str(_cell(batch, self.prompt_column, i) or "")
            try:
                raw, path = self._row_label(batch, i)
                label = self.judge.label(raw, self.mode, path)
            except SpecError as exc:  # one bad row must not sink the dataset: it is unscorable
                verdicts[i] = Verdict.of("label", None, f"invalid spec or label: {exc}").to_dict()
                continue
            items.append(RewardItem(label, str(responses[i]), prompt))
            todo.append(i)
        for i, scored in zip(todo, self.judge.score(items, self.reward), strict=True):
            verdicts[i], rewards[i] = scored.verdict.to_dict(), scored.reward
        out = dict(batch)
        out["verdict"] = [orjson.dumps(v).decode() for v in verdicts]
        out["outcome"] = [v["outcome"] for v in verdicts]
        out["score"] = [v["score"] for v in verdicts]
        out["reward"] = [r if r is not None else self.unscorable_value for r in rewards]
        return out

    def __del__(self) -> None:
        self.judge.close()


def _cell(batch: Mapping[str, Any], column: str, i: int) -> Any:
    values = batch.get(column)
    if values is None:
        return None
    value = values[i]
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


def verify_dataset(
    ds: Any,
    spec: Any = None,
    *,
    response_column: str = "response",
    prompt_column: str = "prompt",
    spec_column: str = "spec",
    label_column: str = "label",
    reward: Any = "binary",
    concurrency: int = 2,
    batch_size: int = 256,
    num_cpus: float = 1.0,
    unscorable_value: float | None = None,
    mode: str = "strict",
    sandbox_workers: int | None = None,
) -> Any:
    """Verify every row of ``ds`` on an actor pool; returns a lazy ``ray.data.Dataset``.

    ``spec`` (a dict, JSON/YAML string or :class:`~adhere.spec.Spec`) applies to all rows;
    without it each row's ``spec`` or ``label`` column says what to check. The spec and
    the reward are validated here, before any task is scheduled; a row whose own label is
    malformed comes back unscorable with the reason.

    ``mode`` is the IFEval/IFBench mode of rows that do not name one. Each actor runs
    code-test rows on its own sandbox executor with ``sandbox_workers`` slots (default:
    twice the actor's ``num_cpus``, at least 2).
    """
    ray: Any = require("ray", "ray")
    label: Any = None
    if spec is not None:
        from ..spec import Spec

        label = {"spec": Spec.parse(spec).to_dict()}
    checker = Judge()
    checker.reward(reward, "reward")
    if label is not None:
        checker.label(label, mode, "spec")
    return ds.map_batches(
        VerifyActor,
        fn_constructor_kwargs={
            "label": label,
            "reward": reward,
            "response_column": response_column,
            "prompt_column": prompt_column,
            "spec_column": spec_column,
            "label_column": label_column,
            "unscorable_value": unscorable_value,
            "mode": mode,
            "sandbox_workers": sandbox_workers or max(2, 2 * math.ceil(num_cpus)),
        },
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=concurrency),
        num_cpus=num_cpus,
    )


# -- adhere serve on a Ray cluster (Ray Serve) -------------------------------------------------------


def serve_deployment(config: Any = None, *, replicas: int = 1, num_cpus: float | None = None) -> Any:
    """``adhere serve`` as a Ray Serve application: ``replicas`` copies of the same FastAPI app.

    Each replica is a Ray actor running the app exactly as ``adhere serve`` does (its own
    worker processes and sandbox executors, the same limits, 429s and deadlines), and asks
    Ray for ``num_cpus`` (default: its ``workers``), so the scheduler spreads replicas over
    the cluster's nodes. Ray Serve's proxy on every node routes requests to replicas.
    """
    serve: Any = require("ray.serve", "ray")
    from ..serve import ServeConfig, create_app

    cfg = config if config is not None else ServeConfig()

    def build() -> Any:  # runs on the replica, so the app and its workers start there
        return create_app(cfg)

    ingress = serve.ingress(build)

    class AdhereServer:
        """One replica of the adhere reward server."""

    deployment = serve.deployment(
        ingress(AdhereServer),
        name="adhere",
        num_replicas=replicas,
        ray_actor_options={"num_cpus": num_cpus if num_cpus is not None else float(cfg.workers)},
        # Requests reach the replica's own bound (429 + Retry-After) instead of queueing in Ray.
        max_ongoing_requests=2 * cfg.max_inflight,
    )
    return deployment.bind()


def serve_app(args: dict[str, str]) -> Any:
    """Application builder for Ray Serve's CLI and config files::

        serve run adhere.integrations.ray:serve_app replicas=4 workers=8

    Arguments (all optional): ``replicas``, ``workers``, ``sandbox_workers``, ``max_inflight``,
    ``deadline_s``, ``num_cpus``; everything else of :class:`~adhere.serve.ServeConfig`
    comes from the ``ADHERE_*`` environment of the replicas (``runtime_env``).
    """
    from dataclasses import replace

    from ..serve import ServeConfig

    known = {"replicas", "workers", "sandbox_workers", "max_inflight", "deadline_s", "num_cpus"}
    unknown = set(args) - known
    if unknown:
        raise SpecError(f"unknown argument(s) {sorted(unknown)}; serve_app takes {sorted(known)}")
    cfg = ServeConfig()
    if "workers" in args:
        cfg = replace(cfg, workers=int(args["workers"]))
    if "sandbox_workers" in args:
        cfg = replace(cfg, sandbox_workers=int(args["sandbox_workers"]))
    if "max_inflight" in args:
        cfg = replace(cfg, max_inflight=int(args["max_inflight"]))
    if "deadline_s" in args:
        cfg = replace(cfg, deadline_s=float(args["deadline_s"]))
    num_cpus = float(args["num_cpus"]) if "num_cpus" in args else None
    return serve_deployment(cfg, replicas=int(args.get("replicas", 1)), num_cpus=num_cpus)


def serve_on_ray(
    config: Any = None, *, host: str = "127.0.0.1", port: int = 8000, replicas: int = 1, address: str | None = None
) -> None:
    """``adhere serve --ray``: run the server as a Ray Serve application until SIGINT/SIGTERM.

    Without ``address`` a local Ray instance is started; with one (``"auto"``, or
    ``ray://head:10001``) the replicas go to that cluster. On a signal, Serve is shut down,
    each replica finishing its in-flight requests first.
    """
    import signal
    import threading

    ray: Any = require("ray", "ray")
    serve: Any = require("ray.serve", "ray")

    stop = threading.Event()

    def on_signal() -> None:  # Ray installs handlers of its own: ours go in after each step
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())

    on_signal()
    ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    on_signal()
    try:
        serve.start(http_options={"host": host, "port": port})
        on_signal()
        serve.run(serve_deployment(config, replicas=replicas), name="adhere", route_prefix="/", blocking=False)
        on_signal()
        print(f"adhere serving on Ray at http://{host}:{port} ({replicas} replica(s))", flush=True)
        while not stop.wait(0.5):
            pass
        serve.shutdown()
    finally:
        ray.shutdown()
