"""``open_generator("openai:NAME" | "replay:FILE" | "transformers:PATH", ...)``: one entry point
for the CLI's ``--model`` option."""

from __future__ import annotations

import difflib
import os
from typing import Any

from ..errors import SpecError
from .base import BaseGenerator
from .cache import ResponseCache
from .openai_compat import Endpoint, OpenAIGenerator
from .retry import RetryPolicy

__all__ = ["BACKENDS", "open_generator"]

BACKENDS = ("openai", "replay", "transformers")


def open_generator(
    model: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    endpoint: Endpoint = "chat",
    concurrency: int = 8,
    timeout: float = 120.0,
    max_attempts: int = 6,
    rate: float | None = None,
    cache: ResponseCache | str | os.PathLike[str] | None = None,
    strip_think: bool = False,
    device: str | None = None,
) -> BaseGenerator:
    """A generator for a ``BACKEND:NAME`` model string.

    ``cache`` is a :class:`ResponseCache` or a path to its SQLite file (``None``: no
    cache). Options that do not apply to a backend are ignored (replay has no URL).

    Raises:
        SpecError: the model string has no known ``BACKEND:`` prefix.
        DatasetError: ``replay:FILE`` cannot be read or holds no usable rows.
        MissingExtraError: ``transformers:`` without the ``transformers`` extra.
    """
    backend, sep, name = model.partition(":")
    if not sep or not name:
        raise SpecError(
            f"model {model!r} needs a backend prefix: openai:NAME, replay:FILE or transformers:PATH "
            f"(e.g. --model openai:gpt-4o-mini --base-url http://localhost:8000/v1)"
        )
    if backend not in BACKENDS:
        close = difflib.get_close_matches(backend, BACKENDS, n=1)
        hint = f"; did you mean {close[0]}:?" if close else ""
        raise SpecError(f"unknown model backend {backend!r}{hint} (known: {', '.join(BACKENDS)})")
    store = cache if isinstance(cache, ResponseCache) or cache is None else ResponseCache(cache)
    if backend == "openai":
        return OpenAIGenerator(
            name,
            base_url=base_url,
            api_key=api_key,
            endpoint=endpoint,
            concurrency=concurrency,
            timeout=timeout,
            retry=RetryPolicy(max_attempts=max_attempts),
            rate=rate,
            cache=store,
            strip_think=strip_think,
        )
    if backend == "replay":
        from .replay import ReplayGenerator

        return ReplayGenerator(name, strip_think=strip_think)
    from .local import TransformersGenerator

    kwargs: dict[str, Any] = {"device": device, "cache": store, "strip_think": strip_think}
    return TransformersGenerator(name, **kwargs)
