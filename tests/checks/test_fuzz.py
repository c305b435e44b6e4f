"""Every registered check, on arbitrary text, returns a Finding and never raises.

Parameters come from each check's parameter model: the ``examples`` in its JSON schema
(``model_config = ConfigDict(json_schema_extra={"examples": [...]})``), or no parameters
when the model accepts none. The check function is called directly (not through the
spec engine, which would turn an exception into an "internal error" verdict and hide
the bug).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adhere.registry import REGISTRY, CheckInfo, Finding, Params
from adhere.subjects import conversation_of
from adhere.text.view import TextView


def _examples(info: CheckInfo) -> list[dict[str, Any]]:
    extra = info.params.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if isinstance(examples, list) and examples:
        return [dict(e) for e in examples if isinstance(e, dict)]
    try:
        info.params.model_validate({})
    except ValueError:
        return []
    return [{}]


def _cases() -> list[tuple[CheckInfo, Params]]:
    return [(info, info.params.model_validate(ex)) for info in REGISTRY for ex in _examples(info)]


CASES = _cases()


def run_all(text: str, prompt: str = "") -> None:
    view = TextView(text, prompt)
    for info, params in CASES:
        subject: Any = conversation_of(view) if info.subject == "conversation" else view
        try:
            found = info.fn(subject, params)
        except Exception as exc:  # pragma: no cover - the failure message is the point
            raise AssertionError(f"{info.id} {params!r} raised {type(exc).__name__}: {exc} on {text[:200]!r}") from exc
        assert isinstance(found, Finding), info.id
        assert found.ok in (True, False, None), info.id
        assert isinstance(found.reason, str) and found.reason, info.id


def test_every_check_can_be_fuzzed() -> None:
    missing = sorted(info.id for info in REGISTRY if not _examples(info))
    assert not missing, (
        "these checks need parameters but declare no examples to fuzz with; add "
        'model_config = ConfigDict(json_schema_extra={"examples": [...]}) to their Params: ' + ", ".join(missing)
    )
    assert {info.id for info, _ in CASES} == {info.id for info in REGISTRY if _examples(info)}


# Characters that drive the checks' code paths, mixed into arbitrary Unicode.
_MARKUP = st.sampled_from([*"*-#\n\n \t[]<>{}\"'.,!?:;`0123456789ΣσİßﬁAZaz", "***", "******", "P.S.", "```json"])
_TEXT = st.lists(st.one_of(st.characters(), _MARKUP, st.text(max_size=8)), max_size=120).map("".join)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, prompt=st.text(max_size=40))
def test_checks_never_raise_on_arbitrary_unicode(text: str, prompt: str) -> None:
    run_all(text, prompt)


@settings(max_examples=30, deadline=None)
@given(data=st.binary(max_size=2000))
def test_checks_never_raise_on_binary_decoded_with_replacement(data: bytes) -> None:
    run_all(data.decode("utf-8", errors="replace"))
    run_all(data.decode("latin-1"))


@settings(max_examples=20, deadline=None)
@given(text=st.text(st.characters(categories=["Cs", "Co", "Cn", "Cc", "Zs", "Mn"]), max_size=200))
def test_checks_never_raise_on_surrogates_and_unassigned(text: str) -> None:
    run_all(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "[" * 200_000,
        "{" * 50_000 + "}" * 50_000,
        "*" * 100_000,
        "*** " * 30_000,
        "-\n" * 50_000,
        "SECTION 1 " * 20_000,
        "a" * 1_000_000,
        "Word. " * 100_000,
        "\x00\x01\x02\ufffd" * 50_000,
    ],
    ids=[
        "empty",
        "blank",
        "open-brackets",
        "deep-braces",
        "stars",
        "dividers",
        "dashes",
        "sections",
        "one-word-1mb",
        "sentences",
        "binary",
    ],
)
def test_checks_never_raise_on_huge_or_degenerate_text(text: str) -> None:
    run_all(text)
