"""From a model's answer to the program to run.

Two response shapes are standard: a *completion* (the body that continues the task's
prompt, HumanEval style: the program is ``prompt + completion``) and a *solution* (the
whole program, EvalPlus style). Chat models wrap code in Markdown fences; when the text
has fences, the code is taken from them:

* the fenced blocks are found with their info strings; an unterminated last fence (a
  truncated answer) counts as a block up to the end;
* blocks tagged as another language (``text``, ``bash``, ``json``, ...) are ignored;
* the block that defines the entry point wins (the last one, when the model revised its
  answer); without an entry point, or when none defines it, the longest block.

A fenced completion that defines the entry point is a whole program: it runs after the
prompt (so the prompt's imports are there), and its ``def`` replaces the prompt's stub.

(``adhere.text`` has the generic code-block splitter; this one also needs the info
strings and the unterminated fence, which only code suites care about.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Program", "extract_code", "program_from_response"]

_FENCE_RE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^\n`]*)$", re.MULTILINE)
_PYTHON_TAGS = {"", "python", "py", "python3", "py3", "python2", "pycon", "ipython", "sage"}


@dataclass(frozen=True, slots=True)
class Program:
    """The program built from one response, and how (for reasons and reports)."""

    source: str
    fenced: bool
    whole: bool


def _blocks(text: str) -> list[tuple[str, str]]:
    """(info string, body) of each fenced block, in order."""
    out: list[tuple[str, str]] = []
    pos = 0
    while True:
        opening = _FENCE_RE.search(text, pos)
        if opening is None:
            return out
        fence, info = opening.group(1), opening.group(2).strip().lower()
        body_start = opening.end() + 1
        closing_re = re.compile(rf"^[ \t]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
        closing = closing_re.search(text, body_start)
        if closing is None:  # truncated answer: the block runs to the end
            out.append((info, text[body_start:]))
            return out
        out.append((info, text[body_start : closing.start()]))
        pos = closing.end()


def _defines(code: str, name: str) -> bool:
    return re.search(rf"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+{re.escape(name)}\b", code, re.MULTILINE) is not None


def extract_code(text: str, entry_point: str | None = None) -> tuple[str, bool]:
    """The code in ``text`` and whether it came from a fence (see the module docstring)."""
    blocks = [(info.split()[0] if info else "", body) for info, body in _blocks(text)]
    code_blocks = [body for info, body in blocks if info in _PYTHON_TAGS]
    if not code_blocks:
        return text, False
    if entry_point:
        defining = [b for b in code_blocks if _defines(b, entry_point)]
        if defining:
            return defining[-1], True
    return max(code_blocks, key=len), True


def program_from_response(text: str, *, prompt: str, entry_point: str | None, whole: bool) -> Program:
    """The program to run for a response.

    Args:
        text: the response (completion or solution).
        prompt: the task's prompt (code to continue for completions; may be ``""``).
        entry_point: the function the tests call, if any.
        whole: the response is a whole program (a ``solution``), not a completion.
    """
    code, fenced = extract_code(text, entry_point)
    if whole:
        return Program(code, fenced, True)
    if fenced and entry_point and _defines(code, entry_point):
        return Program(prompt + "\n" + code if prompt else code, True, True)
    return Program(prompt + code, fenced, False)
