"""Language checks: the language a response is written in (langdetect, seeded)."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from ..registry import Finding, Params, check
from ..text.view import TextView

__all__ = ["LANGUAGE_CODE", "LanguageParams", "asks_language", "language_is"]

#: The shape of a langdetect language code: ISO 639-1 (``fr``), or with a region (``zh-cn``).
LANGUAGE_CODE = r"^[a-z]{2,3}(-[a-z]{2,4})?$"


class LanguageParams(Params):
    language: str = Field(pattern=LANGUAGE_CODE, description="langdetect code, e.g. 'en', 'fr', 'zh-cn'")
    model_config = ConfigDict(json_schema_extra={"examples": [{"language": "en"}, {"language": "hi"}]})


@check(
    "language.is",
    params=LanguageParams,
    tags=("language", "ifeval"),
    description="The response is in the given language (langdetect, seed 0); undetectable text passes, as in IFEval.",
)
def language_is(view: TextView, p: LanguageParams) -> Finding:
    found = view.language
    if found is None:
        return Finding(True, "language could not be detected; counted as followed (IFEval rule)", {"detected": None})
    ok = found == p.language
    return Finding(ok, f"detected {found!r}" + ("" if ok else f"; needs {p.language!r}"), {"detected": found})


def asks_language(check_id: str, params: Params, text: str) -> bool:
    """Whether judging ``text`` with this check detects its language.

    Batch scorers detect the languages of those texts together beforehand
    (:func:`adhere.text.language.detect_many`, same answers, less time); the checks
    then find them memoised. Case checks detect only after their case test passes.
    """
    if check_id == "language.is":
        return True
    from .case import CASE_TESTS, CaseParams  # case imports this module

    test = CASE_TESTS.get(check_id)
    return test is not None and isinstance(params, CaseParams) and params.language is not None and test(text)
