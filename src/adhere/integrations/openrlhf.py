"""OpenRLHF adapter: the remote reward protocol and the ``--remote_rm_url reward_func.py`` form.

Matches OpenRLHF 0.11.2 (PyPI) and its main branch of August 2026, read from their source
(``openrlhf/utils/agent.py``: ``SingleTurnAgentExecutor``; ``openrlhf/cli/serve_rm.py``;
``examples/python/reward_func.py``):

* **HTTP** (``--remote_rm_url http://host:port/get_reward``): OpenRLHF ``POST``s
  ``{"query": [...], "prompts": [...], "labels": [...]}`` and reads ``"rewards"`` (for the
  advantage), ``"scores"`` (in [0, 1], for dynamic filtering; falls back to rewards) and
  ``"extra_logs"`` (each value logged per sample). :func:`get_reward` is that exchange as
  a plain function ``(payload) -> response`` for ``adhere serve`` to mount.
* **Python file** (``--remote_rm_url /path/to/openrlhf.py``): OpenRLHF imports the file
  with ``importlib.util.spec_from_file_location("reward_func", path)`` and calls
  ``reward_func(queries, prompts, labels)`` in a thread with lists of one; the result is
  the same dict. This module defines :func:`reward_func` at top level and uses absolute
  imports only, so its own path works; settings come from ``ADHERE_*`` variables.

``query`` is ``tokenizer.decode(prompt_ids + response_ids, skip_special_tokens=False)``:
the prompt (with its chat template) followed by the response and its end-of-sequence
token. The response judged is the query after the prompt, with trailing end tokens
(:data:`END_TOKENS`, or ``ADHERE_END_TOKENS``: a JSON list) removed.

Labels (``--label_key``) are in adhere's label language (:mod:`adhere.labels`). OpenRLHF
needs numbers: unscorable rows get ``unscorable_value`` (default 0.0, or
``ADHERE_UNSCORABLE_VALUE``) and ``extra_logs["unscorable"]`` is 1.0 for them.
``extra_logs["adhere_pass"]`` is 1.0 when the verdict passed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from adhere.errors import SpecError
from adhere.rewards import RewardItem, Scored, ascore_items, score_items
from adhere.rewards._adapt import AdapterSettings, safe_label

__all__ = ["END_TOKENS", "aget_reward", "get_reward", "response_from_query", "reward_func"]

END_TOKENS: tuple[str, ...] = (
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|end_of_text|>",
    "<|end|>",
    "<|return|>",
    "<end_of_turn>",
    "<eos>",
    "</s>",
    "<｜end▁of▁sentence｜>",
)
"""End-of-sequence and end-of-turn tokens of common chat templates, stripped from the response's end."""


def _end_tokens() -> tuple[str, ...]:
    raw = os.environ.get("ADHERE_END_TOKENS")
    if not raw:
        return END_TOKENS
    try:
        tokens = json.loads(raw)
    except json.JSONDecodeError:
        raise SpecError(f"ADHERE_END_TOKENS must be a JSON list of strings, got {raw!r}") from None
    if not isinstance(tokens, list) or not all(isinstance(t, str) and t for t in tokens):
        raise SpecError(f"ADHERE_END_TOKENS must be a JSON list of non-empty strings, got {raw!r}")
    return tuple(tokens)


def response_from_query(query: str, prompt: str, end_tokens: Sequence[str] = END_TOKENS) -> str:
    """The response inside OpenRLHF's ``query``: the text after the prompt, end tokens stripped.

    The prompt is looked for at the start, else at its first occurrence (a BOS token
    decoded before it); a query that does not contain the prompt is judged whole.
    """
    start = 0
    if prompt:
        if query.startswith(prompt):
            start = len(prompt)
        else:
            at = query.find(prompt)
            if at >= 0:
                start = at + len(prompt)
    text = query[start:]
    while True:  # end tokens (and whitespace after them) go; the response's own whitespace stays
        trimmed = text.rstrip()
        for token in end_tokens:
            if token and trimmed.endswith(token):
                text = trimmed[: -len(token)]
                break
        else:
            return text


def _items(payload: Mapping[str, Any], settings: AdapterSettings) -> list[RewardItem]:
    if not isinstance(payload, Mapping):
        raise SpecError(f"the request body must be a JSON object, got {type(payload).__name__}")
    queries = payload.get("query")
    if not isinstance(queries, list):
        raise SpecError(f"'query' must be a list of strings, got {type(queries).__name__}", "query")
    n = len(queries)
    prompts = payload.get("prompts")
    labels = payload.get("labels")
    for name, column in (("prompts", prompts), ("labels", labels)):
        if not isinstance(column, list) or len(column) != n:
            size = len(column) if isinstance(column, list) else type(column).__name__
            raise SpecError(f"'{name}' must be a list with one entry per query ({n}), got {size}", name)
    assert isinstance(prompts, list) and isinstance(labels, list)
    ends = _end_tokens()
    items = []
    for i, (query, prompt, label) in enumerate(zip(queries, prompts, labels, strict=True)):
        if not isinstance(query, str):
            raise SpecError(f"expected a string, got {type(query).__name__}", f"query[{i}]")
        prompt = prompt if isinstance(prompt, str) else ""
        parsed = safe_label(label, path=f"labels[{i}]", mode=settings.mode)
        items.append(RewardItem(parsed, response_from_query(query, prompt, ends), prompt, None, (prompt, parsed.key)))
    return items


def _response(scored: list[Scored], settings: AdapterSettings) -> dict[str, Any]:
    rewards = [settings.value(s) for s in scored]
    scores = []
    for s in scored:
        raw = s.verdict.score if s.verdict.score is not None else settings.unscorable_value
        scores.append(min(1.0, max(0.0, raw)))
    return {
        "rewards": rewards,
        "scores": scores,
        "extra_logs": {
            "unscorable": [float(s.unscorable) for s in scored],
            "adhere_pass": [float(s.verdict.passed) for s in scored],
        },
    }


def get_reward(
    payload: Mapping[str, Any],
    *,
    reward: Any = None,
    unscorable_value: float | None = None,
    mode: str | None = None,
    executor: Any = None,
) -> dict[str, Any]:
    """One ``POST /get_reward`` exchange: OpenRLHF's request body in, its response body out.

    ``rewards`` are the reward (``reward``: a declaration, default ``"binary"``; a label's
    own ``"reward"`` wins); ``scores`` are the verdict's score clipped to [0, 1] (for
    OpenRLHF's dynamic filtering); unscorable rows get ``unscorable_value`` in both and
    ``extra_logs["unscorable"] = 1.0``. A malformed row label makes that row unscorable; a
    malformed body raises :class:`~adhere.errors.SpecError` (a 4xx for the server).
    """
    settings = AdapterSettings.resolve(reward, unscorable_value, mode)
    items = _items(payload, settings)
    return _response(score_items(items, settings.reward, executor=executor), settings)


async def aget_reward(
    payload: Mapping[str, Any],
    *,
    reward: Any = None,
    unscorable_value: float | None = None,
    mode: str | None = None,
    executor: Any = None,
) -> dict[str, Any]:
    """:func:`get_reward` for async servers (text judged in a worker thread, code awaited)."""
    settings = AdapterSettings.resolve(reward, unscorable_value, mode)
    items = _items(payload, settings)
    return _response(await ascore_items(items, settings.reward, executor=executor), settings)


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], **kwargs: Any) -> dict[str, Any]:
    """OpenRLHF's Python-file reward form: point ``--remote_rm_url`` at this file.

    Settings come from the environment (``ADHERE_REWARD``, ``ADHERE_UNSCORABLE_VALUE``,
    ``ADHERE_MODE``, ``ADHERE_END_TOKENS``); keyword arguments, if OpenRLHF ever passes
    some, are ignored.
    """
    return get_reward({"query": list(queries), "prompts": list(prompts), "labels": list(labels)})
