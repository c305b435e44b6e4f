"""Script checks: is the response written in Chinese, and in which script (Simplified or Traditional)?

langdetect (``language.is``) cannot tell Simplified from Traditional reliably on short
texts (it reads a Traditional sentence as Korean), so this family counts characters:
the share of Han characters among the letters, and hanzidentifier's verdict on the
script (the ``zh`` extra; without it the script cannot be judged: unscorable, with the
install hint).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import ConfigDict, Field

from ..errors import MissingExtraError, require
from ..registry import Finding, Params, check
from ..text.view import TextView

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002a6df\uf900-\ufaff]")
_LETTER_RE = re.compile(r"[^\W\d_]", re.UNICODE)


class ChineseParams(Params):
    variant: Literal["simplified", "traditional", "any"] = "any"
    min_share: float = Field(
        default=0.5, ge=0.0, le=1.0, description="least share of Han characters among the letters [ours]"
    )
    model_config = ConfigDict(json_schema_extra={"examples": [{"variant": "simplified"}, {"variant": "traditional"}]})


@check(
    "script.chinese",
    params=ChineseParams,
    tags=("language", "muldimif"),
    description="The response is written in Chinese (Han characters are at least min_share of its letters), "
    "in the Simplified or Traditional script when asked.",
)
def chinese(view: TextView, p: ChineseParams) -> Finding:
    han = len(_HAN_RE.findall(view.text))
    letters = len(_LETTER_RE.findall(view.text))
    share = han / letters if letters else 0.0
    ev = {"han": han, "share": round(share, 3)}
    if han == 0 or share < p.min_share:
        return Finding(False, f"{share:.0%} of the letters are Han characters; needs {p.min_share:.0%}", ev)
    if p.variant == "any":
        return Finding(True, f"Chinese ({share:.0%} Han characters)", ev)
    try:
        hz = require("hanzidentifier", "zh")
    except MissingExtraError as exc:
        return Finding(None, f"cannot tell Simplified from Traditional: {exc}", ev)
    kind = hz.identify(view.text)  # type: ignore[attr-defined]
    names = {hz.SIMPLIFIED: "simplified", hz.TRADITIONAL: "traditional", hz.BOTH: "both", hz.MIXED: "mixed"}  # type: ignore[attr-defined]
    found = names.get(kind, "unknown")
    ok = found in (p.variant, "both")
    return Finding(
        ok, f"Chinese in the {found} script" + ("" if ok else f"; needs {p.variant}"), {**ev, "script": found}
    )
