"""Subjects: what a check reads.

* :class:`Response`: a text with the prompt that asked for it and the earlier turns of
  a conversation. Checks see it through a memoised :class:`~adhere.text.TextView`.
* ``Program`` and ``Trajectory`` (code and agent subjects) live with the sandbox and
  contract checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .text.view import TextView

__all__ = ["Message", "Response"]


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True)
class Response:
    """One model output to judge, with its context."""

    text: str
    prompt: str = ""
    turns: Sequence[Message] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def view(self) -> TextView:
        return TextView(self.text, self.prompt)

    @classmethod
    def coerce(cls, value: Response | str) -> Response:
        return value if isinstance(value, Response) else cls(str(value))
