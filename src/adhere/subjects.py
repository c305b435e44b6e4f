"""Subjects: what a check reads.

* :class:`Response`: a text with the prompt that asked for it and the earlier turns of
  a conversation. Checks see it through a memoised :class:`~adhere.text.TextView`.
* :class:`Conversation`: every message of a dialogue, the judged response last. Checks
  registered with ``subject="conversation"`` receive one; spec nodes (``each: turns``,
  ``turn: N``) judge any response check on chosen assistant turns. A plain response is a
  conversation of one exchange, so conversation checks apply everywhere.
* ``Program`` and ``Trajectory`` (code and agent subjects) live with the sandbox and
  contract checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .errors import DatasetError
from .text.view import TextView

__all__ = ["Conversation", "Message", "Response", "attach_conversation", "conversation_of"]

_CONVERSATION_KEY = "subject.conversation"


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True)
class Conversation:
    """A dialogue, oldest message first. Roles are free strings; ``assistant`` marks the
    turns a model wrote (``model`` and ``gpt`` are read as ``assistant``, ``human`` as ``user``)."""

    messages: tuple[Message, ...]

    @classmethod
    def of(cls, messages: Iterable[Message | Mapping[str, Any]]) -> Conversation:
        """From messages or OpenAI-style ``{"role", "content"}`` dicts (ShareGPT's
        ``{"from", "value"}`` too). Raises :class:`DatasetError` on anything else."""
        out: list[Message] = []
        for i, m in enumerate(messages):
            if isinstance(m, Message):
                out.append(Message(_norm_role(m.role), m.content))
                continue
            if not isinstance(m, Mapping):
                raise DatasetError(f"message {i} must be an object with 'role' and 'content', got {m!r}")
            role = m.get("role", m.get("from"))
            content = m.get("content", m.get("value"))
            if not isinstance(role, str) or not isinstance(content, str):
                raise DatasetError(f"message {i} needs string 'role' and 'content', got {dict(m)!r}")
            out.append(Message(_norm_role(role), content))
        return cls(tuple(out))

    @cached_property
    def assistant_indices(self) -> tuple[int, ...]:
        return tuple(i for i, m in enumerate(self.messages) if m.role == "assistant")

    @property
    def assistant_turns(self) -> list[str]:
        """What the model said, turn by turn."""
        return [self.messages[i].content for i in self.assistant_indices]

    @property
    def user_turns(self) -> list[str]:
        return [m.content for m in self.messages if m.role == "user"]

    @property
    def last(self) -> str:
        """The last assistant turn ('' when the model has not spoken)."""
        turns = self.assistant_turns
        return turns[-1] if turns else ""

    def prompt_before(self, message_index: int) -> str:
        """The latest user message before ``message_index`` ('' if none)."""
        for m in reversed(self.messages[:message_index]):
            if m.role == "user":
                return m.content
        return ""

    def upto(self, message_index: int) -> Conversation:
        """The dialogue up to and including ``message_index``."""
        return Conversation(self.messages[: message_index + 1])

    def turn_view(self, turn: int) -> TextView:
        """A view of assistant turn ``turn`` (0-based) that carries the dialogue up to it."""
        index = self.assistant_indices[turn]
        view = TextView(self.messages[index].content, self.prompt_before(index))
        return attach_conversation(view, self.upto(index))


def _norm_role(role: str) -> str:
    r = role.strip().lower()
    return {"model": "assistant", "gpt": "assistant", "bot": "assistant", "human": "user"}.get(r, r)


def attach_conversation(view: TextView, conversation: Conversation) -> TextView:
    """Link ``view`` (the last turn) to its dialogue, for conversation checks and turn nodes."""
    view.memo(_CONVERSATION_KEY, lambda: conversation)
    return view


def conversation_of(view: TextView) -> Conversation:
    """The dialogue a view belongs to; a lone response is one exchange (prompt, text)."""

    def lone() -> Conversation:
        msgs = (Message("user", view.prompt),) if view.prompt else ()
        return Conversation((*msgs, Message("assistant", view.text)))

    return view.memo(_CONVERSATION_KEY, lone)


def linked_conversation(view: TextView) -> Conversation | None:
    """The dialogue explicitly attached to ``view``, if any (no default is created)."""
    memo: dict[Any, Any] = view._memo
    value = memo.get(_CONVERSATION_KEY)
    return value if isinstance(value, Conversation) else None


@dataclass(frozen=True)
class Response:
    """One model output to judge, with its context.

    ``turns`` are the messages *before* ``text`` (the last assistant turn); when it is
    empty and ``prompt`` is set, the dialogue is the single exchange (prompt, text).
    """

    text: str
    prompt: str = ""
    turns: Sequence[Message] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def conversation(self) -> Conversation:
        if self.turns:
            return Conversation.of([*self.turns, Message("assistant", self.text)])
        msgs = (Message("user", self.prompt),) if self.prompt else ()
        return Conversation((*msgs, Message("assistant", self.text)))

    @cached_property
    def view(self) -> TextView:
        prompt = self.prompt
        if self.turns and not prompt:
            conv = self.conversation
            prompt = conv.prompt_before(len(conv.messages) - 1)
        view = TextView(self.text, prompt)
        if self.turns:
            attach_conversation(view, self.conversation)
        return view

    @classmethod
    def coerce(cls, value: Response | str) -> Response:
        return value if isinstance(value, Response) else cls(str(value))

    @classmethod
    def from_messages(cls, messages: Iterable[Message | Mapping[str, Any]], **meta: Any) -> Response:
        """The last assistant message of a dialogue, judged with everything before it."""
        conv = Conversation.of(messages)
        if not conv.assistant_indices:
            raise DatasetError("a conversation to judge needs at least one assistant message")
        last = conv.assistant_indices[-1]
        return cls(
            conv.messages[last].content,
            conv.prompt_before(last),
            conv.messages[:last],
            meta,
        )
