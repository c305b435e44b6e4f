"""``replay:FILE``: a generator that answers from a responses file instead of a model.

Reads JSONL rows in the common layouts: IFEval/IFBench ``{"prompt", "response"}``,
EvalPlus ``{"task_id", "completion" | "solution"}``, and adhere's own
``generations.jsonl`` (:meth:`Completion.to_dict` rows, whose ``raw`` text is
preferred so ``strip_think`` can be applied again). A row's sample index is its
``sample`` field, else its order among rows for the same prompt or key.

A request is matched by exact prompt text, then by whitespace-stripped text, then by
its ``id`` against the rows' ``key`` / ``id`` / ``task_id``. A request with no
matching row gets a permanent error (an unscorable sample), never an empty text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from ..errors import DatasetError
from .base import BaseGenerator, GenerationFailure, GenParams, RawOutput, Request

__all__ = ["ReplayGenerator"]

_TEXT_FIELDS = ("raw", "response", "completion", "solution", "output", "text")
_KEY_FIELDS = ("key", "id", "task_id")


def _row_text(row: Mapping[str, Any]) -> str | None:
    for name in _TEXT_FIELDS:
        value = row.get(name)
        if isinstance(value, str):
            return value
    return None


def _row_key(row: Mapping[str, Any]) -> str | None:
    for name in _KEY_FIELDS:
        if row.get(name) is not None:
            return str(row[name])
    return None


class ReplayGenerator(BaseGenerator):
    """Completions looked up in a file; useful to re-score, to test, and to run offline."""

    def __init__(self, path: str | os.PathLike[str], *, strip_think: bool = False) -> None:
        self.path = Path(path)
        super().__init__(f"replay:{self.path}", concurrency=1, cache=None, strip_think=strip_think)
        self._by_prompt: dict[tuple[str, int], Mapping[str, Any]] = {}
        self._by_stripped: dict[tuple[str, int], Mapping[str, Any]] = {}
        self._by_key: dict[tuple[str, int], Mapping[str, Any]] = {}
        self.problems: list[str] = []
        self._load()

    def _load(self) -> None:
        try:
            lines = self.path.read_bytes().splitlines()
        except OSError as exc:
            raise DatasetError(f"cannot read responses file: {exc.strerror or exc}", str(self.path)) from None
        seen: dict[tuple[str, str], int] = {}
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                self.problems.append(f"{self.path}:{number}: not JSON ({exc})")
                continue
            if not isinstance(row, dict) or (_row_text(row) is None and not row.get("error")):
                self.problems.append(f"{self.path}:{number}: no response text ({', '.join(_TEXT_FIELDS)})")
                continue
            prompt = row.get("prompt")
            prompt_text = prompt if isinstance(prompt, str) else None
            key = _row_key(row)
            identity = ("p", prompt_text) if prompt_text is not None else ("k", key or f"line{number}")
            order = seen.get(identity, 0)
            seen[identity] = order + 1
            sample = row["sample"] if isinstance(row.get("sample"), int) else order
            if prompt_text is not None:
                self._by_prompt.setdefault((prompt_text, sample), row)
                self._by_stripped.setdefault((prompt_text.strip(), sample), row)
            if key is not None:
                self._by_key.setdefault((key, sample), row)
        if not (self._by_prompt or self._by_key):
            raise DatasetError("no usable response rows", str(self.path))

    def lookup(self, request: Request) -> Mapping[str, Any] | None:
        prompt = request.prompt
        if isinstance(prompt, str):
            row = self._by_prompt.get((prompt, request.sample)) or self._by_stripped.get(
                (prompt.strip(), request.sample)
            )
            if row is not None:
                return row
        if request.id is not None:
            return self._by_key.get((str(request.id), request.sample))
        return None

    async def _complete(self, request: Request, params: GenParams) -> RawOutput:
        row = self.lookup(request)
        if row is None:
            raise GenerationFailure(
                f"{self.path.name} has no response for this prompt (id {request.id!r}, sample {request.sample})",
                "permanent",
            )
        if row.get("error"):
            raise GenerationFailure(f"recorded error: {row['error']}", "permanent")
        text = _row_text(row) or ""
        reasoning = row.get("reasoning")
        usage = row.get("usage")
        return RawOutput(
            raw=text,
            reasoning=reasoning if isinstance(reasoning, str) else None,
            finish_reason=row.get("finish_reason") if isinstance(row.get("finish_reason"), str) else None,
            usage={k: v for k, v in usage.items() if isinstance(v, int)} if isinstance(usage, dict) else {},
            attempts=0,
        )
