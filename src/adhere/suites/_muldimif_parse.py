# ruff: noqa: E501  (the readers are long regular expressions, kept on one line each to stay readable)
"""MulDimIF constraint sentences → adhere specs.

MulDimIF states each constraint as a triple ``[category, subcategory, sentence]`` with no
structured arguments, so the sentence itself carries the parameters ("The answer must be
at most 50 words", "If a table is used, it must not exceed 3 rows"). :func:`parse_constraint`
reads the sentence into a spec tree over adhere's general checks, or says it cannot:
a constraint is never guessed. What the reader understands:

* **numbers** in digits (``2,500``) or words (``three``, ``twenty-five``, ``a single``);
* **relations**: at least / a minimum of / no fewer than / more than (→ min), at most / no more
  than / not exceed(ing) / a maximum of / limited to / up to / within / less than (→ max),
  between A and B / A to B / a range of A-B (→ both), exactly / precisely / bare numbers (→ both);
* **units**: words, sentences, paragraphs, rows, columns, heading levels, levels of nesting,
  attributes; several in one sentence ("no more than 3 rows and 2 columns");
* **scopes**: the response (the answer, the summary, the script, ...), or its parts: each
  sentence / paragraph / section (slide, part) / heading / list item (bullet point) / table
  cell (entry in the table) / table row / table column named in quotes / each entry (whatever
  the response enumerates, see ``entries`` in :mod:`adhere.items`); "the table" as a whole;
* **conditions**: "if a table is used", "any table included" (the constraint holds when the
  thing is present) versus "include a table with ..." (it must be present).

Measurement choices (stated once here; they are the checks' documented definitions):
words are ``\\w+`` runs (``length.words``), sentences are nltk Punkt sentences
(``length.sentences``), paragraphs are blocks between blank lines, headings are ATX ``#``
headings, table rows exclude the header, JSON depth counts objects and arrays
(``{"a": {"b": 1}}`` is 2), "capitalized letters for each word" is title case
(``format.title_case``), keywords match whole words case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAMILIES", "Parsed", "family_of", "parse_constraint"]

Spec = dict[str, Any]

# -- the reference's 12 second-level families ------------------------------------------------

FAMILIES: dict[str, str] = {
    "Content_Keywords": "Content_Keywords",
    "Content_Keywords: Must include": "Content_Keywords",
    "Content_Mention": "Content_Keywords",
    "Length_Words": "Length_Words",
    "Length_Words: At most": "Length_Words",
    "Length_Words: At least": "Length_Words",
    "Length_Words: Range": "Length_Words",
    "Words_At most": "Length_Words",
    "Content_Length": "Length_Words",
    "Format_Blurb": "Length_Words",
    "Format_Word Count": "Length_Words",
    "Format_Length": "Length_Words",
    "Length_Sentences": "Length_Sentences",
    "Length_Sentences: At least": "Length_Sentences",
    "Length_Sentences: At most": "Length_Sentences",
    "Length_Sentences: Range": "Length_Sentences",
    "Sentences_At most": "Length_Sentences",
    "Sentences_At least": "Length_Sentences",
    "Length_Paragraphs": "Length_Paragraphs",
    "Length_Paragraphs: At most": "Length_Paragraphs",
    "Length_Paragraphs: At least": "Length_Paragraphs",
    "Length_Paragraphs: Range": "Length_Paragraphs",
    "Paragraphs_At most": "Length_Paragraphs",
    "Format_Table": "Format_Table",
    "Table_Row limit": "Format_Table",
    "Table_Column limit": "Format_Table",
    "Format_Table: Row limit": "Format_Table",
    "Format_Table: Column limit": "Format_Table",
    "Table_Table": "Format_Table",
    "Punctuation_Ending punctuation": "Content_Punctuation",
    "Content_Punctuation: Ending punctuation": "Content_Punctuation",
    "Content_Punctuation": "Content_Punctuation",
    "Content_Quotes": "Content_Punctuation",
    "Language_English": "Language_English",
    "Language_English: Capitalized": "Language_English",
    "Language_English: All Uppercase": "Language_English",
    "Format_Markdown": "Format_Markdown",
    "Markdown_Heading levels": "Format_Markdown",
    "Format_Markdown: Heading levels": "Format_Markdown",
    "Markdown_Block quotes": "Format_Markdown",
    "Format_Markdown: Block quotes": "Format_Markdown",
    "Json_Object nesting levels": "Format_Json",
    "Format_Json": "Format_Json",
    "Json_Number of attributes": "Format_Json",
    "Language_Chinese": "Language_Chinese",
    "Language_Chinese: Simplified": "Language_Chinese",
    "Language_Chinese: Traditional": "Language_Chinese",
    "Content_Identifiers": "Content_Identifiers",
    "Citations_In-text": "Content_Identifiers",
    "Content_Sources": "Content_Identifiers",
    "Format_Text": "Content_Identifiers",
    "References_Format": "Content_Identifiers",
    "Format_Bullet Points": "Content_Identifiers",
    "XML_Number of attributes": "Format_XML",
    "Format_XML": "Format_XML",
}


def family_of(category: str, subcategory: str) -> str | None:
    """The reference's second-level family ("Length_Words", ...) of a constraint, or None."""
    return FAMILIES.get(f"{category}_{subcategory}")


@dataclass(frozen=True)
class Parsed:
    """A constraint read into a spec (``spec``), or not (``spec is None``: unscorable)."""

    spec: Spec | None
    reason: str
    family: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.spec is not None


class Unparsable(Exception):
    """Raised inside the reader: the sentence says something we will not guess."""


# -- numbers -------------------------------------------------------------------------------------

_ONES = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_WORD_NUM = (
    r"(?:(?:" + "|".join(_TENS) + r")(?:[- ](?:" + "|".join(k for k in _ONES if _ONES[k] < 10 and k != "zero") + r"))?"
    r"|" + "|".join(sorted(_ONES, key=len, reverse=True)) + r")(?:\s+(?:hundred|thousand))?"
)
NUM = r"(\d{1,3}(?:,\d{3})+|\d+|" + _WORD_NUM + r"|a single|single|once|twice)"
_NUM_RE = re.compile(NUM + r"$", re.IGNORECASE)


def number(text: str) -> int:
    """``"2,500"`` → 2500, ``"twenty-five"`` → 25, ``"a single"`` → 1, ``"twice"`` → 2."""
    t = text.strip().lower().replace(",", "")
    if t.isdigit():
        return int(t)
    if t in ("a single", "single", "a", "an", "once"):
        return 1
    if t == "twice":
        return 2
    mult = 1
    for word, m in (("hundred", 100), ("thousand", 1000)):
        if t.endswith(word):
            t = t[: -len(word)].strip()
            mult = m
    total = 0
    for part in re.split(r"[- ]+", t):
        if part in _ONES:
            total += _ONES[part]
        elif part in _TENS:
            total += _TENS[part]
        else:
            raise Unparsable(f"cannot read the number {text!r}")
    return total * mult


# -- bounds ----------------------------------------------------------------------------------------

UNITS: dict[str, str] = {
    "words": r"words?",
    "sentences": r"(?:complete\s+)?sentences?",
    "paragraphs": r"(?:distinct\s+)?paragraphs?",
    "rows": r"rows?",
    "columns": r"columns?",
    "heading_levels": r"(?:different\s+|distinct\s+)?(?:heading\s+)?levels?(?:\s+of\s+headings?)?",
    "nesting": r"(?:levels?\s+of\s+nesting|nesting\s+levels?|levels?(?:\s+deep)?)",
    "attributes": r"attributes?",
    "characters": r"characters?",
}

_MIN = (
    r"at\s+least:?|a\s+minimum\s+(?:length\s+)?of|minimum\s+of|no\s+(?:less|fewer)\s+than|not\s+(?:less|fewer)\s+than"
    r"|requiring\s+(?:a\s+minimum\s+of\s+)?"
)
_MAX = (
    r"at\s+most:?|no\s+more\s+than|not\s+more\s+than|(?:does\s+|do\s+|must\s+|should\s+|to\s+)?not\s+exceed(?:ing)?"
    r"(?:\s+a\s+(?:total|maximum)\s+of)?(?:\s+a\s+column\s+limit\s+of)?|not\s+surpass|a\s+maximum\s+(?:length\s+)?of"
    r"|maximum\s+(?:length\s+)?of|limited\s+to(?:\s+a\s+maximum\s+of|\s+at\s+most|\s+no\s+more\s+than|\s+only)?"
    r"|limit(?:ing)?\s+(?:it|them|the\s+\w+(?:\s+\w+)?|any\s+tables?|tables?|the\s+response|the\s+answer)?\s*to"
    r"(?:\s+a\s+maximum\s+of|\s+at\s+most|\s+no\s+more\s+than)?|up\s+to|no\s+longer\s+than|within(?:\s+a\s+limit\s+of)?"
    r"|a\s+limit\s+of|with\s+a\s+limit\s+of|not\s+have\s+more\s+than|a\s+total\s+of\s+no\s+more\s+than"
    r"|under|a\s+(?:row|column)\s+limit\s+of|(?:row|column)\s+limit\s+of|a\s+strict\s+limit\s+of(?:\s+no\s+more\s+than)?"
    r"|a\s+(?:strict\s+)?limitation\s+of(?:\s+no\s+more\s+than|\s+a\s+maximum\s+of)?|adhering\s+to\s+a\s+maximum\s+of"
    r"|with\s+a\s+maximum\s+of|the\s+constraint\s+of\s+having\s+a\s+maximum\s+of"
)
_LESS = r"less\s+than|fewer\s+than"
_MORE = r"more\s+than"
_EXACT = r"exactly|precisely|strictly\s+containing\s+exactly|only|just|limited\s+to\s+exactly|consisting\s+of\s+only"
_RANGE_SEP = r"\s*(?:and|to|-|–|—)\s*"


@dataclass
class Bound:
    unit: str
    min: int | None
    max: int | None
    start: int
    end: int

    def params(self) -> dict[str, int]:
        out: dict[str, int] = {}
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        return out


def _unit_re(unit: str) -> str:
    return UNITS[unit]


_WC = r"word\s+count|length"
_FILLER = r"(?:\s+(?:a\s+total\s+of|total|only|about|of))?"
_ADJ = r"(?:\s+(?!and\b|or\b|to\b)[a-z][\w'-]*){0,2}?"


def find_bounds(text: str, units: tuple[str, ...]) -> list[Bound]:
    """Every ``(unit, min, max)`` the sentence states, in order; overlapping readings of the
    same span keep the most specific (range over exact over min/max)."""
    s = text.lower()
    found: list[Bound] = []
    for unit in units:
        u = _unit_re(unit)
        pats: list[tuple[str, str]] = [
            ("range", rf"between\s+{NUM}{_RANGE_SEP}{NUM}{_ADJ}\s+{u}\b"),
            ("range", rf"(?:range(?:\s+of)?:?|ranging\s+(?:from|between)|from)\s+{NUM}{_RANGE_SEP}{NUM}{_ADJ}\s+{u}\b"),
            ("range", rf"\b{NUM}\s*(?:to|-|–)\s*{NUM}{_ADJ}\s+{u}\b"),
            ("range", rf"{u}\s+(?:count\s+)?(?:ranging\s+)?(?:between|from)\s+{NUM}{_RANGE_SEP}{NUM}\b"),
            ("min", rf"(?:{_MIN})\s*{NUM}{_ADJ}\s+{u}\b"),
            ("max", rf"(?:{_MAX}){_FILLER}\s+{NUM}{_ADJ}\s+{u}\b"),
            ("less", rf"(?:{_LESS})\s+{NUM}{_ADJ}\s+{u}\b"),
            ("more", rf"(?:{_MORE})\s+{NUM}{_ADJ}\s+{u}\b"),
            ("exact", rf"(?:{_EXACT})\s+{NUM}{_ADJ}\s+{u}\b"),
            ("min", rf"\b{NUM}\s+or\s+more{_ADJ}\s+{u}\b"),
            ("max", rf"\b{NUM}\s+or\s+(?:fewer|less){_ADJ}\s+{u}\b"),
            ("max", rf"\b{NUM}[- ]{u}\s+(?:limit|maximum)\b"),
            (
                "max",
                rf"(?:{u}|{_WC if unit == 'words' else u})\s+(?:count\s+)?(?:limit\s+of|not\s+exceeding|of\s+no\s+more\s+than|limit\s+to)\s+{NUM}\b",
            ),
            ("max", rf"maximum\s+{u}\s+count\s+of\s+{NUM}\b"),
            ("exact", rf"{u}\s+must\s+be\s+exactly\s+{NUM}\b"),
            ("exact", rf"(?:a|one)\s+single\s+{u}\b"),
            ("exact", rf"\bsingle\s+{u}\b"),
            (
                "exact",
                rf"\b(?:in|of|into|contain(?:s|ing)?|include(?:s|ing)?|has|have|with|comprises?|consists?\s+of|consisting\s+of|be)\s+{NUM}{_ADJ}\s+{u}\b",
            ),
            ("exact", rf"^{NUM}\s+{u}\b"),
        ]
        for kind, pat in pats:
            for m in re.finditer(pat, s):
                nums = [g for g in m.groups() if g is not None]
                try:
                    values = [number(g) for g in nums]
                except Unparsable:
                    continue
                if not values:
                    values = [1]
                if kind == "range":
                    lo, hi = values[0], values[1]
                    b = Bound(unit, min(lo, hi), max(lo, hi), m.start(), m.end())
                elif kind == "min":
                    b = Bound(unit, values[0], None, m.start(), m.end())
                elif kind == "max":
                    b = Bound(unit, None, values[0], m.start(), m.end())
                elif kind == "less":
                    b = Bound(unit, None, max(0, values[0] - 1), m.start(), m.end())
                elif kind == "more":
                    b = Bound(unit, values[0] + 1, None, m.start(), m.end())
                else:
                    b = Bound(unit, values[0], values[0], m.start(), m.end())
                found.append(b)
        # "no more than 3 rows and 2 columns": the second unit inherits the relation
    chosen: list[Bound] = []
    for b in sorted(found, key=lambda x: (x.start, -(x.end - x.start))):
        clash = next((c for c in chosen if c.unit == b.unit and not (b.end <= c.start or b.start >= c.end)), None)
        if clash is None:
            chosen.append(b)
    chosen = _inherit_relations(s, chosen, units)
    return sorted(chosen, key=lambda x: x.start)


def _inherit_relations(s: str, bounds: list[Bound], units: tuple[str, ...]) -> list[Bound]:
    """ "not exceed 3 rows and 2 columns": a bare "and N unit" after a bound takes its relation."""
    out = list(bounds)
    for b in bounds:
        for unit in units:
            m = re.match(rf"\s*(?:,\s*)?and\s+{NUM}\s+{_unit_re(unit)}\b", s[b.end :])
            if not m or unit == b.unit or any(c.unit == unit for c in out):
                continue
            try:
                n = number(m.group(1))
            except Unparsable:
                continue
            lo = n if b.min is not None else None
            hi = n if b.max is not None else None
            out.append(Bound(unit, lo, hi, b.end + m.start(), b.end + m.end()))
    return out


# -- scopes ----------------------------------------------------------------------------------------

# Nouns that name the response itself: a constraint on "the summary" is on the whole text.
_WHOLE = (
    r"answers?|responses?|reply|text|output|content|summary|script|essay|article|report|explanation|description"
    r"|story|news story|narrative|paraphrase|rephrased (?:statement|version|text)|reworded (?:\w+)|rewritten (?:text|version)"
    r"|revised version|corrected (?:text|sentence|version)|edited statement|translation|email|message|letter|note|document"
    r"|analysis|outline|proposal|curriculum|guide|worksheet|exam|test|questionnaire|presentation|slide|timeline|methodology"
    r"|code|poem|lyrics|dialog(?:ue)? lines|sentence|statement|passage|paragraph|question|name|term|title|list|table of contents"
    r"|entire (?:response|answer|text|script)|overall (?:answer|response)|whole (?:response|answer)|thesis slide|primer"
    r"|recommendation|solution|definition|joke|speech|summary of .*|book|digital essay|textbook|agreement|case study|lexical field"
    r"|dataset|diagram|information|descriptions?|it|this|your (?:answer|response|explanation|analysis|digital essay|summary)"
)

# each/every X → item kind
_EACH_KINDS: tuple[tuple[str, str], ...] = (
    (
        r"(?:cell|entry|entries|item)\s+(?:in|of)\s+(?:the\s+|each\s+|any\s+)?tables?|table\s+(?:cell|entry|entries)|cell",
        "table_cells",
    ),
    (r"row(?:\s+(?:in|of)\s+the\s+table)?", "table_rows"),
    (r"(?:entry|entries|item)\s+(?:in|of)\s+the\s+list|bullet(?:\s+point)?|list\s+item|point", "list_items"),
    (r"sentence", "sentences"),
    (r"paragraph", "paragraphs"),
    (r"section|slide|part|main\s+part|chapter", "sections"),
    (r"heading|subheading|header|section\s+title", "headings"),
    (r"line", "lines"),
)

_EACH_RE = re.compile(
    r"\b(?:each|every)\s+(?:of\s+the\s+)?((?:[\w'’-]+\s+){0,3}?[\w'’-]+)(?=\s+(?:in|of|must|should|is|are|has|have|needs|being|contains?|includes?|ends?|concludes?|begins?|starts?|consists?|to|be|needs?|with|explicitly|,|$)|[,.:]|$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Scope:
    """Where a constraint applies: the whole response, each item of a kind, or items joined."""

    mode: str  # "whole" | "each" | "within"
    kind: str = ""
    text: str = ""


WHOLE = Scope("whole")


_PURPOSE_RE = re.compile(
    r"\s+(?:in\s+order\s+)?to\s+(?:ensure|provide|maintain|give|keep|help|highlight|emphasize|meet|adhere|guarantee|"
    r"offer|achieve|fully|effectively|clearly|cover|enhance|fit|comprehensively|thoroughly|illustrate|address|align|"
    r"reflect|convey|capture|prompt|encourage|confirm|specify|contextualize|indicate|explore|focus|present|organize|"
    r"summarize|structure|distinguish|delineate)\b|,\s*(?:ensuring|providing|maintaining|allowing|offering|"
    r"making\s+sure|which|as\s+this|as\s+it|as\s+these|so\s+that)\b",
    re.IGNORECASE,
)


def main_clause(sentence: str) -> str:
    """The sentence without a trailing purpose clause ("... to ensure each section is clear")."""
    m = _PURPOSE_RE.search(sentence)
    return sentence[: m.start()] if m and m.start() > 0 else sentence


def scope_of(sentence: str, *, default_each: str = "entries") -> Scope:
    """The part of the response a sentence constrains."""
    s = main_clause(sentence).lower()
    m = _EACH_RE.search(s)
    if m:
        noun = m.group(1).strip()
        # "each word" is a property of the text, not a scope ("capitalize each word");
        # ", each focusing on ..." describes the items, it does not pick them
        if (
            re.fullmatch(r"(?:word|word's initial letter|one)", noun)
            or noun.startswith("word ")
            or noun.split()[0].endswith("ing")
        ):
            m = None
        else:
            tail = s[m.start() : m.end() + 40]
            for pat, kind in _EACH_KINDS:
                if re.match(rf"(?:each|every)\s+(?:of\s+the\s+)?(?:{pat})", tail):
                    return Scope("each", kind, noun)
            return Scope("each", default_each, noun)
    return WHOLE


def wrap(scope: Scope, spec: Spec, *, if_none: str = "fail") -> Spec:
    """Apply ``spec`` at ``scope``."""
    if scope.mode == "whole":
        return spec
    if scope.mode == "within":
        return {"within": scope.kind, "spec": spec, "if_none": if_none}
    return {"each": scope.kind, "spec": spec, "if_none": if_none}


def _all(specs: list[Spec]) -> Spec:
    return specs[0] if len(specs) == 1 else {"all": specs}


# -- quoted strings ---------------------------------------------------------------------------------

_QUOTE_PAIRS = {"'": "'", '"': '"', "“": "”", "‘": "’", "「": "」"}


def quoted(sentence: str) -> list[str]:
    """Quoted strings: 'x', "x", “x”, ‘x’, 「x」. An apostrophe inside a word (Kellogg's)
    does not close a quote; a trailing sentence period inside the quotes is dropped."""
    out: list[str] = []
    i, n = 0, len(sentence)
    while i < n:
        ch = sentence[i]
        close = _QUOTE_PAIRS.get(ch)
        opens = close is not None and (ch == "「" or i == 0 or not sentence[i - 1].isalnum())
        if not opens:
            i += 1
            continue
        assert close is not None
        j = i + 1
        while j < n:
            if sentence[j] == close and (j + 1 == n or not sentence[j + 1].isalnum()):
                if close in "'’" and j > i + 1 and sentence[j - 1].isalpha() and j + 1 < n and sentence[j + 1] == "s":
                    j += 1
                    continue
                break
            j += 1
        if j >= n:
            i += 1
            continue
        body = sentence[i + 1 : j].strip()
        body = body.rstrip(",;").strip()
        if body.endswith(".") and not re.search(r"\b[A-Z]\.$|\.\w+\.$", body):
            body = body[:-1].rstrip()
        if body:
            out.append(body)
        i = j + 1
    return out


# -- family readers ---------------------------------------------------------------------------------

Reader = Callable[[str], Spec]


def _count_scope(s: str, unit_kind: str) -> Scope:
    """Scope for a count of words/sentences/paragraphs."""
    sc = scope_of(s)
    if sc.mode == "each":
        if sc.kind == unit_kind:  # "each sentence must ... words": per item
            return sc
        return sc
    low = s.lower()
    if re.search(r"\b(?:the|entire|whole)\s+table\b", low) and not re.search(r"\bif\b", low):
        return Scope("within", "tables")
    return WHOLE


def _count_spec(unit: str, b: Bound) -> Spec:
    if unit == "words":
        return {"check": "length.words", "params": b.params()}
    if unit == "sentences":
        return {"check": "length.sentences", "params": b.params()}
    if unit == "paragraphs":
        return {"check": "items.count", "params": {"items": "paragraphs", **b.params()}}
    raise Unparsable(f"no count for unit {unit}")


def read_length(unit: str) -> Reader:
    def reader(s: str) -> Spec:
        low = s.lower()
        if unit == "words" and re.search(r"each\s+(?:word|term)\s+(?:must|should)\s+(?:be|consist)", low):
            raise Unparsable("a bound on the characters of each word is not a word count")
        bounds = [
            b
            for b in find_bounds(s, ("words", "sentences", "paragraphs"))
            if b.unit in ("words", "sentences", "paragraphs")
        ]
        if (
            unit == "sentences"
            and re.search(r"\b(?:a|one)\s+(?:single\s+|complete\s+)?sentence\b", low)
            and not any(b.unit == "sentences" for b in bounds)
        ):
            if re.search(r"at\s+least\s+(?:one|a)\b|consist\s+of\s+at\s+least", low):
                bounds.append(Bound("sentences", 1, None, 0, 0))
            else:
                bounds.append(Bound("sentences", 1, 1, 0, 0))
        if (
            unit == "paragraphs"
            and re.search(r"\b(?:a\s+)?single\s+paragraph\b|one\s+paragraph\s+long", low)
            and not any(b.unit == "paragraphs" for b in bounds)
        ):
            bounds.append(Bound("paragraphs", 1, 1, 0, 0))
        if unit == "paragraphs" and re.search(r"\bmultiple\s+(?:paragraphs|sections)\b", low) and not bounds:
            bounds.append(Bound("paragraphs", 2, None, 0, 0))
        primary = [b for b in bounds if b.unit == unit]
        if not primary:
            raise Unparsable(f"no bound on {unit} found")
        scope = _count_scope(s, unit)
        specs = [_count_spec(b.unit, b) for b in bounds]
        extra = secondary_clauses(s, exclude=("length",))
        return _all([wrap(scope, _all(specs)), *extra])

    return reader


# keywords


def read_keywords(s: str) -> Spec:
    low = s.lower()
    if re.search(r"\bavoids?\s+the\s+mention\b|\bnames\s+of\s+key\s+players\b|phonetic\s+transcription", low):
        raise Unparsable("the content asked for is described, not quoted")
    kws = quoted(s)
    if not kws:
        raise Unparsable("no quoted keyword")
    specs: list[Spec] = []
    avoid: list[str] = []
    m_avoid = re.search(r"\b(?:avoids?|must\s+not\s+include|exclud\w+|without)\b(.*)$", s, re.IGNORECASE)
    if m_avoid:
        avoid = quoted(m_avoid.group(1))
        kws = [k for k in kws if k not in avoid]
    any_of = bool(re.search(r"\bsuch\s+as\b", low) and re.search(r"\bor\b", low))
    times = 1
    m = re.search(r"at\s+least\s+(twice|once|\w+)\s*(?:times)?", low)
    if m and m.group(1) in ("twice", "once"):
        times = number(m.group(1))
    elif m:
        mt = re.search(rf"at\s+least\s+{NUM}\s+times", low)
        if mt:
            times = number(mt.group(1))
    if re.search(r"multiple\s+times", low):
        times = 2
    column = None
    mc = re.search(r"in\s+the\s+['\"]([^'\"]+)['\"]\s+column|the\s+([A-Z][\w ]+?)\s+column\s+must", s)
    if mc:
        column = mc.group(1) or mc.group(2)
        kws = [k for k in kws if k != column]
    if not kws and not avoid:
        raise Unparsable("no keyword to look for")

    def whole_word(k: str) -> str:
        return rf"(?<!\w){re.escape(k)}(?!\w)"

    if any_of:
        specs.append(
            {
                "any": [
                    {"check": "keywords.include", "params": {"keywords": [whole_word(k)], "regex": True}} for k in kws
                ]
            }
        )
    elif times > 1:
        specs.extend(
            {"check": "keywords.count", "params": {"keyword": whole_word(k), "regex": True, "min": times}} for k in kws
        )
    elif kws:
        specs.append({"check": "keywords.include", "params": {"keywords": [whole_word(k) for k in kws], "regex": True}})
    if avoid:
        specs.append({"check": "keywords.forbidden", "params": {"words": [re.escape(a) for a in avoid], "regex": True}})
    spec = _all(specs)
    if column is not None:
        spec = {"within": f"table_column:{column}", "spec": spec}
        return _all([spec, *secondary_clauses(s, exclude=("keywords",))])
    low_sc = low
    if re.search(r"\bat\s+least\s+one\s+of\s+the\b", low_sc):
        return {"each": "entries", "spec": spec, "min": 1, "if_none": "fail"}
    m_in = re.search(r"\bin\s+(?:each|every)\s+(sentence|section|paragraph|entry|one|row)\b", low_sc)
    if m_in:
        kind = {"sentence": "sentences", "section": "sections", "paragraph": "paragraphs", "row": "table_rows"}.get(
            m_in.group(1), "entries"
        )
        return _all([{"each": kind, "spec": spec, "if_none": "fail"}, *secondary_clauses(s, exclude=("keywords",))])
    if re.search(r"\b(?:within|in)\s+the\s+table\b|\bthe\s+table\s+must\b", low_sc):
        return {"within": "tables", "spec": spec}
    scope = scope_of(s)
    return _all([wrap(scope, spec), *secondary_clauses(s, exclude=("keywords",))])


# ending punctuation

_MARKS = {
    "period": ".",
    "full stop": ".",
    "question mark": "?",
    "exclamation mark": "!",
    "exclamation point": "!",
    "semicolon": ";",
}
_MARK_RE = re.compile(r"(period|full stop|question mark|exclamation (?:mark|point)|semicolon)s?", re.IGNORECASE)


def ending_spec(s: str) -> Spec | None:
    low = s.lower()
    if not re.search(r"\b(?:end|ends|ending|conclude|concludes|concluding|marked)\b", low):
        return None
    marks = []
    for m in _MARK_RE.finditer(low):
        mark = _MARKS[m.group(1)]
        if mark not in marks:
            marks.append(mark)
    if not marks:
        return None
    alts: list[Spec] = [{"check": "position.ends_with", "params": {"phrase": mk}} for mk in marks]
    return alts[0] if len(alts) == 1 else {"any": alts}


def read_punctuation(s: str) -> Spec:
    low = s.lower()
    m_avoid = re.search(r"avoid\s+using\s+(period|question mark|exclamation mark|semicolon)s?", low)
    if m_avoid:
        return {"not": {"check": "keywords.include", "params": {"keywords": [_MARKS[m_avoid.group(1)]]}}}
    spec = ending_spec(s)
    if spec is None:
        raise Unparsable("no ending punctuation mark named")
    sc = scope_of(s, default_each="entries")
    if re.search(r"\bend\s+each\s+sentence\b|\bends\s+each\s+sentence\b", low):
        sc = Scope("each", "sentences")
    if sc.mode == "whole" and re.search(r"\bthe\s+table\s+concludes\b", low):
        sc = WHOLE
    return _all([wrap(sc, spec), *secondary_clauses(s, exclude=("ending",))])


# case


def case_spec(s: str) -> Spec | None:
    low = s.lower()
    if re.search(r"\blowercase\b", low):
        return {"check": "case.lowercase"}
    if re.search(
        r"all\s+uppercase|entirely\s+in\s+uppercase|entirely\s+uppercase|in\s+uppercase\s+letters|all\s+caps", low
    ) or ("uppercase" in low and "each word" not in low):
        return {"check": "case.uppercase"}
    if re.search(r"fully\s+capitali[sz]ed", low):
        return {"check": "case.uppercase"}
    if re.search(r"capitali[sz]|capital\s+letter|initial\s+letter", low):
        return {"check": "format.title_case"}
    return None


def read_english(s: str) -> Spec:
    low = s.lower()
    if "short blurb" in low:
        raise Unparsable("'a short blurb' is not measurable")
    spec = case_spec(s)
    if spec is None:
        if re.search(r"\buse\s+headings\b|markdown", low):
            raise Unparsable("a formatting request filed as a language constraint")
        raise Unparsable("no letter case named")
    scope = case_scope(s)
    if scope is None:
        raise Unparsable("the words to capitalise are named by meaning (names, titles), not by a part we can locate")
    return _all([wrap(scope, spec), *secondary_clauses(s, exclude=("case",))])


def case_scope(s: str) -> Scope | None:
    """Where a letter-case requirement applies; None when the words are picked by meaning
    ("the names of the countries", "each technique's name")."""
    low = s.lower()
    if re.search(r"json\s+keys", low):
        return Scope("within", "json_keys")
    if re.search(r"\bheadings?\b|section\s+titles", low) and "table" not in low:
        return Scope("within", "headings")
    if re.search(r"\btable\b", low):
        return Scope("within", "table_cells")
    if re.search(r"\beach\s+option\b", low):
        return Scope("each", "entries")
    if re.search(r"\b(?:each|every)\s+word\s+in\s+(?:the\s+|your\s+)?[\w' ]+", low):
        return WHOLE  # "each word in the summary": the summary is the response
    m = re.search(
        r"\b(?:the|your|each|all)\s+((?:entire\s+|whole\s+)?[\w']+(?:\s+[\w']+){0,2}?)\s+(?:must|should|is|are|uses?|employs?)\b",
        low,
    )
    if m:
        noun = re.sub(r"^(?:entire|whole|overall)\s+", "", m.group(1).strip())
        if noun in ("word", "words", "word's initial letter", "simplified title") or re.fullmatch(
            r"(?:" + _WHOLE + r")", noun
        ):
            return WHOLE
        if noun in (
            "language used in the answer",
            "language used in the response",
            "text of the answer",
            "language used",
        ):
            return WHOLE
        if re.fullmatch(r"answers|examples|answer to each question|text on the slide|language used in the \w+", noun):
            return WHOLE
        return None
    return WHOLE


# headings


def read_markdown(s: str) -> Spec:
    low = s.lower()
    specs: list[Spec] = []
    if re.search(r"block\s*quotes?", low):
        specs.append({"check": "markdown.block_quotes", "params": {"min": 1}})
        if "heading" not in low:
            return _all(specs)
    bounds = find_bounds(s, ("heading_levels",))
    levels = sorted({int(x) for x in re.findall(r"\b(?:h|level\s*|levels\s+|heading\s+level\s+)([1-6])\b", low)})
    levels += sorted({number(w) for w in re.findall(r"\blevel\s+(one|two|three|four|five|six)\b", low)} - set(levels))
    levels += [len(h) for h in re.findall(r"'(#{1,6})\s", s) if len(h) not in levels]
    levels += [
        len(h)
        for h in re.findall(r"(?<![#\w])(#{1,6})(?=[ '\"]|\s*\)|\s+for|\s+denotes|\s+before)", s)
        if len(h) not in levels
    ]
    m_levels = re.search(r"heading\s+levels?\s+([1-6])\s+and\s+([1-6])", low)
    if m_levels:
        levels = sorted({*levels, int(m_levels.group(1)), int(m_levels.group(2))})
    levels = sorted(set(levels))
    level_count = [b for b in bounds if b.unit == "heading_levels" and not re.match(r"level\s*$", low[b.start : b.end])]
    m_max_level = re.search(r"(?:not\s+exceed|up\s+to|no\s+deeper\s+than)\s+(?:heading\s+)?level\s+([1-6]|\w+)", low)
    if m_max_level:
        deepest = number(m_max_level.group(1))
        return _all([{"check": "markdown.heading_levels", "params": {"only": list(range(1, deepest + 1))}}])
    mtitle = re.search(r"(?:titled|with\s+the\s+text|heading\s+title:?)\s+['\"“]([^'\"”]+)['\"”]", s, re.IGNORECASE)
    begin = re.search(
        r"\b(?:begins?|starts?|start)\s+with\s+a\s+(?:markdown\s+)?(?:heading|level)|heading\s+(?:level\s+\d\s+)?at\s+the\s+beginning",
        low,
    )
    count_bound = None
    for b in level_count:
        seg = low[b.start : b.end]
        if "level" in seg and not re.match(r"\s*(?:[1-6]|one|two|three)\b", low[b.end :]):
            count_bound = b
    if count_bound is None:
        m_two = re.search(
            r"\b(two|three|2|3)\s+(?:different\s+|distinct\s+)?(?:heading\s+levels|levels\s+of\s+headings?)|headings?\s+(?:at|with)\s+(two|three)\s+levels|(two|three)\s+levels\s+of\s+headings",
            low,
        )
        if m_two:
            n = number(next(g for g in m_two.groups() if g))
            exact = bool(
                re.search(r"exactly|\buse\s+two\s+heading|\bwith\s+two\s+heading|\binclude\s+headings\s+at\s+two", low)
            )
            count_bound = Bound("heading_levels", n, n if exact else None, 0, 0)
        elif re.search(
            r"\bmultiple\s+heading\s+levels|different\s+levels\s+of\s+headings|heading\s+levels\s+for\s+sections|main\s+heading\s+and\s+(?:a\s+)?subheadings?",
            low,
        ):
            count_bound = Bound("heading_levels", 2, None, 0, 0)
    if count_bound is not None:
        p: dict[str, Any] = count_bound.params()
        if levels and len(levels) >= 2:
            p["include"] = levels
        specs.append({"check": "markdown.heading_levels", "params": p})
    elif len(levels) >= 2:
        specs.append({"check": "markdown.heading_levels", "params": {"include": levels}})
    elif len(levels) == 1:
        lv = levels[0]
        if begin:
            params: dict[str, Any] = {"level": lv}
            if mtitle:
                params["titled"] = mtitle.group(1)
            specs.append({"check": "markdown.starts_with_heading", "params": params})
        else:
            hp: dict[str, Any] = {"level": lv, "min": 1}
            if mtitle:
                hp["titled"] = mtitle.group(1)
            specs.append({"check": "markdown.headings", "params": hp})
    elif re.search(r"\bheadings?\b|heading\s+levels|subheadings", low):
        # "use headings / heading levels to organize the response": at least one heading;
        # "headings for each X": at least two (one per X, and X is plural)
        n = (
            2
            if re.search(
                r"headings?\s+(?:for|to\s+separate)\s+(?:each|different|every)|\bsections\s+(?:such\s+as|like|including)|each\s+\w+[\w ]*\s+(?:as\s+)?a\s+separate\s+heading",
                low,
            )
            else 1
        )
        specs.append({"check": "markdown.headings", "params": {"min": n}})
    if not specs:
        raise Unparsable("no heading or block-quote requirement found")
    return _all([*specs, *secondary_clauses(s, exclude=("markdown",))])


# tables

_OPTIONAL_TABLE = re.compile(
    r"\bif\b[^,]*\b(?:tables?|tabular|table\s+format)\b|\bany\s+(?:tables?|tabular)|\btables?\s+(?:included|used)\b"
    r"|\bwhen\s+(?:incorporating|presenting|constructing|creating|summarizing)|\bmust\s+not\s+exceed\s+\w+\s+rows\s+if",
    re.IGNORECASE,
)


def read_table(s: str) -> Spec:
    low = s.lower()
    bounds = [b for b in find_bounds(s, ("rows", "columns")) if b.unit in ("rows", "columns")]
    specs: list[Spec] = []
    include_header = bool(re.search(r"including\s+(?:the\s+)?headers?(?:\s+row)?", low))
    for b in bounds:
        if b.unit == "rows":
            params: dict[str, Any] = b.params()
            if include_header:
                params["include_header"] = True
            specs.append({"check": "table.rows", "params": params})
        else:
            specs.append({"check": "table.columns", "params": b.params()})
    mentions_table = bool(re.search(r"\btab(?:le|les|ular)\b", low))
    if not bounds:
        m_list = re.search(
            rf"(?:list|answer|response)\s+(?:must|should)\s+(?:not\s+exceed|include\s+no\s+more\s+than|contain\s+no\s+more\s+than)\s+{NUM}\s+(?:entries|items|rows|[\w ]+)",
            low,
        )
        m_list2 = re.search(
            rf"(?:include|list)\s+(?:a\s+maximum\s+of|no\s+more\s+than)\s+{NUM}\s+(universities|names|countries|episodes|items|entries)\b",
            low,
        )
        if m_list or m_list2:
            mm = m_list or m_list2
            assert mm is not None
            n = number(mm.group(1))
            if mentions_table:
                return {
                    "all": [
                        {"check": "items.count", "params": {"items": "tables", "min": 1}},
                        {"check": "table.rows", "params": {"max": n}},
                    ]
                }
            return {"check": "items.count", "params": {"items": "entries", "max": n}}
        raise Unparsable("no row or column bound found")
    if not mentions_table and not re.search(r"\brows?\b|\bcolumns?\b", low):
        raise Unparsable("a bound on something other than a table")
    optional = bool(_OPTIONAL_TABLE.search(low)) and not re.search(
        r"\b(?:must|should)\s+(?:include|be\s+presented|contain|feature|incorporate)\s+a\s+table", low
    )
    header_names = _column_names(s)
    if header_names:
        specs.append(
            {
                "within": "table_header",
                "spec": {
                    "check": "keywords.include",
                    "params": {"keywords": [re.escape(h) for h in header_names], "regex": True},
                },
            }
        )
    body = _all(specs)
    if not mentions_table:
        # "The list must not exceed 10 rows": table rows when there is a table, else the entries
        rows = [b for b in bounds if b.unit == "rows"]
        if rows and len(bounds) == 1:
            otherwise = {"check": "items.count", "params": {"items": "entries", **rows[0].params()}}
            return {
                "when": {"check": "items.count", "params": {"items": "tables", "min": 1}},
                "then": body,
                "otherwise": otherwise,
            }
    if optional:
        return {"when": {"check": "items.count", "params": {"items": "tables", "min": 1}}, "then": body}
    return _all([{"check": "items.count", "params": {"items": "tables", "min": 1}}, *([body] if specs else [])])


def _column_names(s: str) -> list[str]:
    """Column names listed after "columns:" or "labeled" / "titled" / "including" in quotes."""
    m = re.search(
        r"columns?\s*(?:labeled|titled|named|specifically\s+(?:including|titled\s+as)|:)\s*(.*)$", s, re.IGNORECASE
    )
    if not m:
        return []
    names = quoted(m.group(1))
    return names


# JSON / XML


def read_json(s: str) -> Spec:
    bounds = [b for b in find_bounds(s, ("nesting",)) if b.unit == "nesting"]
    low = s.lower()
    if not bounds:
        m = re.search(rf"nesting\s+levels?\s+(?:must\s+)?(?:not\s+exceed(?:ing)?|of)\s+{NUM}", low)
        if m:
            n = number(m.group(1))
            exact = "of" in m.group(0).split()[-2:] or m.group(0).rstrip().endswith(f"of {m.group(1)}")
            bounds = [Bound("nesting", n if exact else None, n, 0, 0)]
    if not bounds:
        raise Unparsable("no nesting bound found")
    return {"check": "json.depth", "params": bounds[0].params()}


def read_xml(s: str) -> Spec:
    bounds = [b for b in find_bounds(s, ("attributes",)) if b.unit == "attributes"]
    if not bounds:
        m = re.search(rf"attributes\s+must\s+be\s+exactly\s+{NUM}", s, re.IGNORECASE)
        if not m:
            raise Unparsable("no attribute bound found")
        n = number(m.group(1))
        bounds = [Bound("attributes", n, n, 0, 0)]
    params: dict[str, Any] = bounds[0].params()
    if re.search(r"\bif\b|\beach\s+xml\s+element\b|\bany\s+xml\b", s, re.IGNORECASE):
        params["require_xml"] = False  # a bound on each element holds when there is none
    return {"check": "xml.attributes", "params": params}


def read_chinese(s: str) -> Spec:
    low = s.lower()
    if "traditional" in low or "繁體" in s:
        return {"check": "script.chinese", "params": {"variant": "traditional"}}
    if "simplified" in low or "简体" in s:
        return {"check": "script.chinese", "params": {"variant": "simplified"}}
    raise Unparsable("no Chinese script named")


def read_identifiers(s: str) -> Spec:
    low = s.lower()
    if re.search(r"no\s+bullet\s+points", low):
        return {"check": "items.count", "params": {"items": "bullets", "max": 0}}
    m = re.search(r"\b(?:start|begin)s?\s+with\s+the\s+(?:word|identifier|phrase|letter)\s+", s, re.IGNORECASE)
    if m:
        q = quoted(s[m.end() - 1 :]) or quoted(s)
        if q:
            prefix = q[0]
            if "letter" in m.group(0).lower():
                raise Unparsable("the name that must start with a letter is not located in the response")
            spec: Spec = {"check": "text.starts_with", "params": {"prefix": prefix}}
            sc = scope_of(s)
            if sc.mode == "each":
                return {"each": "entries", "spec": spec, "if_none": "fail"}
            return spec
    raise Unparsable("no measurable identifier requirement")


# -- secondary clauses ---------------------------------------------------------------------------


def secondary_clauses(s: str, exclude: tuple[str, ...]) -> list[Spec]:
    """Requirements of other families stated in the same sentence ("... capitalized and end
    with a period"), joined only when introduced by a conjunction, so a purpose clause
    ("to ensure at least ...") is not read as a requirement."""
    low = s.lower()
    out: list[Spec] = []
    scope = scope_of(s)
    if "ending" not in exclude and re.search(
        r"(?:\band|,)\s+(?:it\s+should\s+|must\s+|should\s+)?(?:end|conclude)s?\s+with", low
    ):
        end = ending_spec(s)
        if end is not None:
            out.append(wrap(scope, end))
    if "length" not in exclude:
        for b in find_bounds(s, ("words", "sentences")):
            before = low[max(0, b.start - 40) : b.start]
            if re.search(
                r"\b(?:and|but|while|,)\s+(?:must\s+|should\s+|be\s+|contain\s+|include\s+|consist\s+of\s+|limited\s+to\s+|it\s+must\s+)*$|\band\s+(?:be|contain|include)\s+$|specifically\s+$",
                before,
            ) and not re.search(r"\bto\s+(?:ensure|provide|maintain)\b[^,]*$", before):
                out.append(wrap(scope, _count_spec(b.unit, b)))
    if "case" not in exclude and re.search(
        r"\bmust\s+use\s+capitalized\s+letters\s+for\s+each\s+word\b|\bcapitalized\s+and\b", low
    ):
        out.append(wrap(scope, {"check": "format.title_case"}))
    mk = re.search(r"\binclude\w*\s+the\s+(?:specific\s+)?keywords?\b", low)
    if "keywords" not in exclude and mk:
        kws = quoted(s[mk.start() :])
        if kws:
            kw_spec = {
                "check": "keywords.include",
                "params": {"keywords": [rf"(?<!\w){re.escape(k)}(?!\w)" for k in kws], "regex": True},
            }
            out.append(wrap(scope, kw_spec))
    return out


# -- entry point ----------------------------------------------------------------------------------

_READERS: dict[str, Reader] = {
    "Length_Words": read_length("words"),
    "Length_Sentences": read_length("sentences"),
    "Length_Paragraphs": read_length("paragraphs"),
    "Content_Keywords": read_keywords,
    "Content_Punctuation": read_punctuation,
    "Content_Identifiers": read_identifiers,
    "Language_English": read_english,
    "Language_Chinese": read_chinese,
    "Format_Markdown": read_markdown,
    "Format_Table": read_table,
    "Format_Json": read_json,
    "Format_XML": read_xml,
}


def _clean(sentence: str) -> str:
    s = sentence.strip()
    while len(s) > 1 and s[0] == s[-1] and s[0] in "\"'":
        s = s[1:-1].strip()
    s = re.sub(r"^(?:the\s+output\s+must\s+follow\s+the\s+following\s+rules:\s*)", "", s, flags=re.IGNORECASE)
    s = re.sub(
        r"^(?:keywords|start identifier|at most|at least|ending punctuation|capitalized):\s+",
        "",
        s,
        flags=re.IGNORECASE,
    )
    return " ".join(s.split())


def parse_constraint(category: str, subcategory: str, sentence: str) -> Parsed:
    """Read one MulDimIF constraint into a spec over adhere's checks, or say why not."""
    family = family_of(category, subcategory)
    if family is None:
        return Parsed(None, f"unknown constraint type {category!r}/{subcategory!r}", None)
    reader = _READERS.get(family)
    if reader is None:
        return Parsed(None, f"no reader for {family}", family)
    text = _clean(sentence)
    try:
        spec = reader(text)
    except Unparsable as exc:
        return Parsed(None, f"not parsed: {exc}", family)
    return Parsed(spec, "parsed", family)
