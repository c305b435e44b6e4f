"""IFEval's loose variants, as adhere builds them, equal the reference's definition.

The reference (instruction_following_eval's ``test_instruction_following_loose``) splits
the response on newlines and joins it again without its first and/or last line, then
strips; each of those also without ``*``. adhere cuts at the first and last newline
instead; this checks that the two agree on every kind of text.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from adhere.spec import IFEVAL_VARIANTS, _variant_texts


def reference_variants(response: str) -> dict[str, str]:
    lines = response.split("\n")
    no_first = "\n".join(lines[1:]).strip()
    no_last = "\n".join(lines[:-1]).strip()
    no_both = "\n".join(lines[1:-1]).strip()
    return {
        "as_is": response,
        "no_stars": response.replace("*", ""),
        "no_first_line": no_first,
        "no_last_line": no_last,
        "no_first_last_line": no_both,
        "no_stars_no_first_line": no_first.replace("*", ""),
        "no_stars_no_last_line": no_last.replace("*", ""),
        "no_stars_no_first_last_line": no_both.replace("*", ""),
    }


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="ab*\n \t\r\u2028\x85", max_size=24) | st.text(max_size=60))
def test_variants_equal_the_reference_definition(response: str) -> None:
    assert _variant_texts(response) == reference_variants(response)


def test_variant_order_is_the_reference_order() -> None:
    assert tuple(reference_variants("")) == IFEVAL_VARIANTS
    assert _variant_texts("") == dict.fromkeys(IFEVAL_VARIANTS, "")
    assert _variant_texts("one\ntwo\nthree")["no_first_last_line"] == "two"
    assert _variant_texts("**one**\ntwo")["no_stars_no_last_line"] == "one"
