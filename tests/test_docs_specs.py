"""Every example in docs/specs.md is run: each ``json spec`` block is parsed and every
``response <outcome>`` / ``dialogue <outcome>`` block after it is judged."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from adhere import Response, Spec, SpecError

DOC = Path(__file__).resolve().parents[1] / "docs" / "specs.md"
_FENCE_RE = re.compile(r"^(`{3,})([^\n`]*)\n(.*?)^\1\s*$", re.DOTALL | re.MULTILINE)


def _examples() -> list[tuple[str, Any, str, str, str]]:
    out: list[tuple[str, Any, str, str, str]] = []
    spec: Any = None
    n = 0
    for m in _FENCE_RE.finditer(DOC.read_text(encoding="utf-8")):
        info, body = m.group(2).split(), m.group(3)
        if info[:2] == ["json", "spec"]:
            spec = json.loads(body)
            n += 1
        elif info and info[0] in ("response", "dialogue"):
            assert spec is not None, "an example before any spec"
            text = body[:-1] if body.endswith("\n") else body
            out.append((f"spec{n}-{info[0]}{len(out)}-{info[1]}", spec, info[0], text, info[1]))
    return out


EXAMPLES = _examples()


def test_the_doc_has_examples_for_every_form() -> None:
    kinds = {json.dumps(e[1])[:12] for e in EXAMPLES}
    text = DOC.read_text(encoding="utf-8")
    for form in ('"when"', '"each"', '"within"', '"sequence"', '"turn"', '"transform"', '"loose"', '"all"'):
        assert form in text
    assert len(EXAMPLES) >= 30 and len(kinds) >= 10


@pytest.mark.parametrize(("spec", "kind", "text", "expected"), [e[1:] for e in EXAMPLES], ids=[e[0] for e in EXAMPLES])
def test_doc_example(spec: Any, kind: str, text: str, expected: str) -> None:
    parsed = Spec.parse(spec)
    subject: Response | str = Response.from_messages(json.loads(text)) if kind == "dialogue" else text
    verdict = parsed.evaluate(subject)
    assert verdict.outcome == expected, verdict.reason


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"each": "paragrafs", "spec": {"check": "case.lowercase"}},
            "spec.each: cannot iterate over 'paragrafs'; did you mean 'paragraphs'?",
        ),
        (
            {"each": "table_column", "spec": {"check": "case.lowercase"}},
            "spec.each: item kind 'table_column' needs an argument",
        ),
        ({"sequence": [{"check": "case.lowercase"}]}, "spec: a 'sequence' node needs 'over'"),
        (
            {"turn": 0, "spec": {"check": "case.lowercase"}},
            "spec.turn: turn must be 'last', 'first' or a non-zero integer",
        ),
        (
            {"each": "bullets", "spec": {"check": "case.lowercase"}, "min": 6, "of": 5},
            "spec: min (6) is greater than the number of items (5)",
        ),
    ],
)
def test_doc_error_table(spec: Any, message: str) -> None:
    with pytest.raises(SpecError) as err:
        Spec.parse(spec)
    assert str(err.value).startswith(message)
