"""From responses to programs: completions, solutions, Markdown fences."""

from __future__ import annotations

import pytest

from adhere.suites.code_extract import extract_code, program_from_response

PROMPT = 'from typing import List\n\n\ndef add(a: int, b: int) -> int:\n    """Add."""\n'


def test_plain_completion_continues_the_prompt() -> None:
    p = program_from_response("    return a + b\n", prompt=PROMPT, entry_point="add", whole=False)
    assert p.source == PROMPT + "    return a + b\n" and not p.fenced and not p.whole


def test_plain_solution_is_the_program() -> None:
    p = program_from_response("def add(a, b):\n    return a + b\n", prompt=PROMPT, entry_point="add", whole=True)
    assert p.source == "def add(a, b):\n    return a + b\n" and p.whole


def test_fenced_completion_with_the_function_runs_after_the_prompt() -> None:
    text = "Sure! Here it is:\n```python\ndef add(a, b):\n    return a + b\n```\nHope it helps."
    p = program_from_response(text, prompt=PROMPT, entry_point="add", whole=False)
    assert p.fenced and p.whole
    assert p.source == PROMPT + "\ndef add(a, b):\n    return a + b\n"


def test_fenced_body_only() -> None:
    p = program_from_response("```\n    return a + b\n```", prompt=PROMPT, entry_point="add", whole=False)
    assert p.source == PROMPT + "    return a + b\n" and p.fenced and not p.whole


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "```python\ndef add(a, b):\n    return 1\n```\n```python\nprint(add(1, 2))\n```",
            "def add(a, b):\n    return 1\n",
        ),
        (
            "```python\ndef add(a, b):\n    return 1\n```\nbetter:\n```py\ndef add(a, b):\n    return a + b\n```",
            "def add(a, b):\n    return a + b\n",
        ),
        ("```bash\npip install x\n```\n```\ndef add(a, b):\n    return 2\n```", "def add(a, b):\n    return 2\n"),
        ("```python\ndef add(a, b):\n    return a + b", "def add(a, b):\n    return a + b"),  # truncated
        ("~~~python\nx = 1\n~~~", "x = 1\n"),
        ("```python3\nx = 1\n```\n```python\nlonger_block = 2\n```", "longer_block = 2\n"),
    ],
)
def test_which_block_wins(text: str, expected: str) -> None:
    code, fenced = extract_code(text, "add")
    assert fenced and code == expected


def test_no_fence_no_change() -> None:
    assert extract_code("def add(a, b): return a + b", "add") == ("def add(a, b): return a + b", False)
    assert extract_code("```json\n{}\n```", "add") == ("```json\n{}\n```", False)
