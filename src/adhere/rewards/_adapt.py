"""What every trainer adapter shares: chat-message text, tolerant label parsing, settings, and the
unscorable fallback for trainers that cannot take ``None``.

Settings come from keyword arguments, else from the environment (for the forms a trainer
loads from a file path and calls with fixed arguments: OpenRLHF's ``reward_func``)::

    ADHERE_REWARD            reward declaration (JSON/YAML); default "binary"
    ADHERE_UNSCORABLE_VALUE  the number sent for unscorable rows where None is impossible; default 0.0
    ADHERE_MODE              "strict" (default) or "loose" for IFEval/IFBench rows without a mode
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import SpecError
from ..labels import Label, parse_label
from ._base import Reward, parse_reward
from ._batch import Scored

__all__ = ["AdapterSettings", "completion_text", "prompt_text", "safe_label"]

log = logging.getLogger("adhere.rewards")

Mode = Literal["strict", "loose"]


def _content_text(content: Any) -> str:
    """A message's content as text: a string, or the text parts of a list of content blocks."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return str(content)


def completion_text(completion: Any) -> str:
    """The text to judge: a standard completion as is; a conversational one (a list of
    messages) as the content of its assistant messages, joined by newlines."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        return _content_text(completion.get("content"))
    if isinstance(completion, list):
        texts = [
            _content_text(m.get("content"))
            for m in completion
            if isinstance(m, Mapping) and m.get("role", "assistant") == "assistant"
        ]
        return "\n".join(t for t in texts if t)
    return "" if completion is None else str(completion)


def prompt_text(prompt: Any) -> str:
    """The prompt's text: a string as is; for a conversation, the last user message."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):
        for m in reversed(prompt):
            if isinstance(m, Mapping) and m.get("role") == "user":
                return _content_text(m.get("content"))
        return _content_text(prompt[-1].get("content")) if prompt and isinstance(prompt[-1], Mapping) else ""
    return "" if prompt is None else str(prompt)


def group_text(prompt: Any) -> str:
    """A key that is equal exactly for equal prompts (all messages of a conversation count)."""
    if isinstance(prompt, str):
        return prompt
    return json.dumps(prompt, sort_keys=True, ensure_ascii=False, default=str)


_warned: set[str] = set()
_fallback_announced: set[float] = set()


def warn_once(message: str) -> None:
    """Log a warning the first time it is seen (bounded), so a bad dataset does not flood the logs."""
    if message not in _warned and len(_warned) < 1000:
        _warned.add(message)
        log.warning(message)


def safe_label(raw: Any, *, path: str = "label", mode: Mode = "strict") -> Label:
    """Parse a row's label; a malformed one becomes :meth:`Label.invalid` (unscorable) and a warning."""
    try:
        return parse_label(raw, path=path, mode=mode)
    except SpecError as exc:
        warn_once(f"adhere: unscorable row, invalid label: {exc}")
        return Label.invalid(str(exc))


def _env_float(name: str) -> float | None:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise SpecError(f"{name} must be a number, got {value!r}") from None


@dataclass(frozen=True)
class AdapterSettings:
    """The reward, the unscorable fallback and the default IFEval mode of one adapter."""

    reward: Reward
    unscorable_value: float = 0.0
    mode: Mode = "strict"

    @classmethod
    def resolve(
        cls, reward: Any = None, unscorable_value: float | None = None, mode: str | None = None
    ) -> AdapterSettings:
        """Explicit arguments first, then ``ADHERE_*`` environment variables, then defaults.

        Resolved settings are cached (adapters called once per response must not re-parse
        the reward declaration every time).
        """
        env = tuple(os.environ.get(k) for k in ("ADHERE_REWARD", "ADHERE_UNSCORABLE_VALUE", "ADHERE_MODE"))
        key = json.dumps([reward, unscorable_value, mode, env], sort_keys=True, default=repr)
        hit = _SETTINGS.get(key)
        if hit is not None and not isinstance(reward, Reward):
            return hit
        settings = cls._resolve(reward, unscorable_value, mode)
        if len(_SETTINGS) > 256:
            _SETTINGS.clear()
        _SETTINGS[key] = settings
        return settings

    @classmethod
    def _resolve(cls, reward: Any, unscorable_value: float | None, mode: str | None) -> AdapterSettings:
        if reward is None:
            reward = os.environ.get("ADHERE_REWARD") or "binary"
        if unscorable_value is None:
            unscorable_value = _env_float("ADHERE_UNSCORABLE_VALUE")
        if mode is None:
            mode = os.environ.get("ADHERE_MODE") or "strict"
        if mode not in ("strict", "loose"):
            raise SpecError(f"mode must be 'strict' or 'loose', got {mode!r}")
        if isinstance(unscorable_value, bool) or not isinstance(unscorable_value, (int, float, type(None))):
            raise SpecError(f"unscorable_value must be a number, got {unscorable_value!r}")
        value = 0.0 if unscorable_value is None else float(unscorable_value)
        return cls(parse_reward(reward), value, mode)  # type: ignore[arg-type]

    def value(self, scored: Scored) -> float:
        """The number to send: the reward, or the chosen fallback for an unscorable row."""
        if scored.reward is None:
            if self.unscorable_value not in _fallback_announced:
                _fallback_announced.add(self.unscorable_value)
                log.warning(
                    f"adhere: unscorable rows are sent as {self.unscorable_value} with an 'unscorable' flag (choose "
                    f"the value with unscorable_value= or ADHERE_UNSCORABLE_VALUE); first reason: {scored.reason}"
                )
            return self.unscorable_value
        return scored.reward


_SETTINGS: dict[str, AdapterSettings] = {}


def columns_at(kwargs: Mapping[str, Any], names: Sequence[str], n: int, who: str) -> list[list[Any]]:
    """The named per-row columns from a trainer's keyword arguments, checked for presence and length."""
    out = []
    for name in names:
        if name not in kwargs:
            have = sorted(k for k in kwargs if isinstance(kwargs[k], list))
            raise SpecError(f"{who} needs the dataset column {name!r}; the batch has columns {have}")
        col = kwargs[name]
        if not isinstance(col, (list, tuple)) or len(col) != n:
            size = len(col) if isinstance(col, (list, tuple)) else type(col).__name__
            raise SpecError(f"{who}: column {name!r} must hold one value per completion ({n}), got {size}")
        out.append(list(col))
    return out
