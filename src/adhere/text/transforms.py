"""Named text transforms for the spec's ``transform`` node.

Stripping reasoning is never implicit: a spec says ``{"transform": "strip_think", ...}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["TRANSFORMS", "last_answer", "last_code_block", "strip_think"]

_THINK_BLOCK_RE = re.compile(r"<think>.*?</think>", re.DOTALL)
_FENCE_RE = re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL)


def strip_think(text: str) -> str:
    """Drop reasoning: everything up to the last ``</think>`` (as MulDimIF and R1-style
    chat templates do, where the opening tag may be in the prompt), else every
    ``<think>…</think>`` block."""
    idx = text.rfind("</think>")
    if idx >= 0:
        return text[idx + len("</think>") :].lstrip()
    return _THINK_BLOCK_RE.sub("", text)


def last_code_block(text: str) -> str:
    """The body of the last fenced code block, or the text itself when there is none."""
    blocks = _FENCE_RE.findall(text)
    return blocks[-1] if blocks else text


_ANSWER_LINE_RE = re.compile(r"answer\s*(?:is)?\s*[:：]\s*(.*)", re.IGNORECASE)


def last_answer(text: str) -> str:
    """What follows the last "Answer:" on its line (stripped), or the text itself when there
    is none: judge a final answer apart from the reasoning before it."""
    found = _ANSWER_LINE_RE.findall(text)
    return found[-1].strip() if found else text


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "strip_think": strip_think,
    "last_code_block": last_code_block,
    "last_answer": last_answer,
    "strip": str.strip,
    "lower": str.lower,
    "remove_stars": lambda t: t.replace("*", ""),
}
