"""Markup checks: Markdown headings and heading levels, block quotes, tables, JSON nesting,
XML attributes, and the number of items of any kind (paragraphs, bullets, sections, ...).

Structure comes from :mod:`adhere.text.markdown` (parsed once per response); definitions
of heading, section, table and row are stated there. Checks that constrain something the
response may not contain (rows of "any table") pass when it is absent; requiring it is the
spec's job (``all`` with an ``items.count``), so "if a table is used, at most 3 rows" and
"include a table with at most 3 rows" are both one line.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import ConfigDict, Field, NonNegativeInt, StringConstraints, field_validator, model_validator

from ..errors import SpecError
from ..items import item_views, validate_kind
from ..registry import Finding, Params, check
from ..text import markdown
from ..text.view import TextView
from ._common import CountRange, count_reason, describe_range, within

Level = Annotated[int, Field(ge=1, le=6)]
_TAGS = ("markup",)


def _norm_title(text: str) -> str:
    """A heading title as read: emphasis, quotes, trailing colon and case ignored."""
    t = re.sub(r"[*_`]+", "", text).strip().strip("\"'“”‘’").strip().rstrip(":").strip()
    return " ".join(t.split()).lower()


class HeadingsParams(Params):
    level: Level | None = Field(default=None, description="count only headings of this level")
    min: NonNegativeInt | None = None
    max: NonNegativeInt | None = None
    titled: Annotated[str, StringConstraints(min_length=1)] | None = Field(
        default=None, description="count only headings with this title (case, emphasis and quotes ignored)"
    )
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"level": 2, "min": 1}, {"min": 3}, {"level": 2, "titled": "Overview", "min": 1}]
        }
    )

    @model_validator(mode="after")
    def _range(self) -> HeadingsParams:
        if self.min is None and self.max is None:
            object.__setattr__(self, "min", 1)
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is greater than 'max' ({self.max})")
        return self


@check(
    "markdown.headings",
    params=HeadingsParams,
    tags=(*_TAGS, "muldimif"),
    description="Number of Markdown headings (of a level, with a title) within [min, max]; min 1 by default.",
)
def headings(view: TextView, p: HeadingsParams) -> Finding:
    found = markdown.structure_of(view).headings
    if p.level is not None:
        found = tuple(h for h in found if h.level == p.level)
    if p.titled is not None:
        want = _norm_title(p.titled)
        found = tuple(h for h in found if _norm_title(h.title) == want)
    n = len(found)
    what = "headings" + (f" of level {p.level}" if p.level else "") + (f" titled {p.titled!r}" if p.titled else "")
    rng = CountRange.model_construct(min=p.min, max=p.max)
    return Finding(within(n, rng), count_reason(n, what, rng), {"headings": n})


class LevelsParams(Params):
    min: NonNegativeInt | None = Field(default=None, description="at least this many distinct levels")
    max: NonNegativeInt | None = Field(default=None, description="at most this many distinct levels")
    include: list[Level] = Field(default_factory=list, description="levels that must each be used")
    only: list[Level] | None = Field(default=None, description="no heading may use another level")
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"min": 2}, {"min": 3, "max": 3, "include": [1, 2, 3]}, {"only": [1, 2]}]}
    )

    @model_validator(mode="after")
    def _some(self) -> LevelsParams:
        if self.min is None and self.max is None and not self.include and self.only is None:
            raise ValueError("give 'min', 'max', 'include' or 'only'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is greater than 'max' ({self.max})")
        return self


@check(
    "markdown.heading_levels",
    params=LevelsParams,
    tags=(*_TAGS, "muldimif"),
    description="The distinct Markdown heading levels used: how many, which must appear, which are allowed.",
)
def heading_levels(view: TextView, p: LevelsParams) -> Finding:
    levels = sorted({h.level for h in markdown.structure_of(view).headings})
    ev = {"levels": levels}
    n = len(levels)
    if (p.min is not None and n < p.min) or (p.max is not None and n > p.max):
        rng = CountRange.model_construct(min=p.min, max=p.max)
        return Finding(False, f"uses {n} heading level(s) {levels}; needs {describe_range(rng)}", ev)
    missing = [lv for lv in p.include if lv not in levels]
    if missing:
        return Finding(False, f"uses heading levels {levels}; level(s) {missing} missing", ev)
    if p.only is not None:
        extra = [lv for lv in levels if lv not in p.only]
        if extra:
            return Finding(False, f"uses heading level(s) {extra}; only {sorted(p.only)} allowed", ev)
    return Finding(True, f"uses heading levels {levels}", ev)


class StartsWithHeadingParams(Params):
    level: Level | None = None
    titled: Annotated[str, StringConstraints(min_length=1)] | None = None
    model_config = ConfigDict(json_schema_extra={"examples": [{"level": 2}, {"level": 1, "titled": "Summary"}]})


@check(
    "markdown.starts_with_heading",
    params=StartsWithHeadingParams,
    tags=(*_TAGS, "muldimif"),
    description="The first non-blank line is a Markdown heading (of a level, with a title, when given).",
)
def starts_with_heading(view: TextView, p: StartsWithHeadingParams) -> Finding:
    first = next((i for i, line in enumerate(view.lines) if line.strip()), None)
    hs = markdown.structure_of(view).headings
    if first is None or not hs or hs[0].line != first:
        line = view.lines[first].strip()[:60] if first is not None else ""
        return Finding(False, f"does not start with a heading (first line {line!r})", {})
    h = hs[0]
    if p.level is not None and h.level != p.level:
        return Finding(False, f"starts with a level {h.level} heading; needs level {p.level}", {"level": h.level})
    if p.titled is not None and _norm_title(h.title) != _norm_title(p.titled):
        return Finding(False, f"starts with heading {h.title!r}; needs {p.titled!r}", {"title": h.title})
    return Finding(True, f"starts with a level {h.level} heading", {"level": h.level})


class BlockQuotesParams(CountRange):
    model_config = ConfigDict(json_schema_extra={"examples": [{"min": 1}, {"max": 0}]})


@check(
    "markdown.block_quotes",
    params=BlockQuotesParams,
    tags=(*_TAGS, "muldimif"),
    description="Number of block quotes (runs of consecutive '>' lines) within [min, max].",
)
def block_quotes(view: TextView, p: BlockQuotesParams) -> Finding:
    n, inside = 0, False
    for line in view.lines:
        quoted = line.lstrip().startswith(">")
        if quoted and not inside:
            n += 1
        inside = quoted
    return Finding(within(n, p), count_reason(n, "block quotes", p), {"block_quotes": n})


class TableRowsParams(CountRange):
    include_header: bool = Field(default=False, description="count the header line as a row")
    model_config = ConfigDict(json_schema_extra={"examples": [{"max": 3}, {"min": 3, "max": 3}]})


@check(
    "table.rows",
    params=TableRowsParams,
    tags=(*_TAGS, "table", "muldimif"),
    description="Every Markdown table has a number of data rows (header excluded by default) within [min, max]; "
    "passes when there is no table.",
)
def table_rows(view: TextView, p: TableRowsParams) -> Finding:
    tables = markdown.structure_of(view).tables
    counts = [len(t.rows) + (1 if p.include_header else 0) for t in tables]
    bad = [(i + 1, n) for i, n in enumerate(counts) if not within(n, p)]
    ev = {"tables": len(tables), "rows": counts}
    if not tables:
        return Finding(True, "no table", ev)
    if bad:
        i, n = bad[0]
        return Finding(False, f"table {i} has {n} rows; needs {describe_range(p)}", ev)
    return Finding(True, f"{len(tables)} table(s) with {counts} rows; needs {describe_range(p)}", ev)


class TableColumnsParams(CountRange):
    model_config = ConfigDict(json_schema_extra={"examples": [{"max": 3}, {"min": 2, "max": 2}]})


@check(
    "table.columns",
    params=TableColumnsParams,
    tags=(*_TAGS, "table", "muldimif"),
    description="Every Markdown table has a number of columns within [min, max]; passes when there is no table.",
)
def table_columns(view: TextView, p: TableColumnsParams) -> Finding:
    tables = markdown.structure_of(view).tables
    counts = [t.columns for t in tables]
    ev = {"tables": len(tables), "columns": counts}
    if not tables:
        return Finding(True, "no table", ev)
    bad = [(i + 1, n) for i, n in enumerate(counts) if not within(n, p)]
    if bad:
        i, n = bad[0]
        return Finding(False, f"table {i} has {n} columns; needs {describe_range(p)}", ev)
    return Finding(True, f"{len(tables)} table(s) with {counts} columns; needs {describe_range(p)}", ev)


class JsonDepthParams(CountRange):
    model_config = ConfigDict(json_schema_extra={"examples": [{"max": 3}, {"min": 2}, {"min": 2, "max": 2}]})


@check(
    "json.depth",
    params=JsonDepthParams,
    tags=(*_TAGS, "json", "muldimif"),
    description="The response presents JSON whose nesting depth (objects and arrays: {'a': 1} is 1) is within "
    "[min, max]; with several JSON blocks, the deepest counts.",
)
def json_depth(view: TextView, p: JsonDepthParams) -> Finding:
    docs = view.memo("markdown.json", lambda: markdown.json_documents(view.text))
    if not docs:
        return Finding(False, "no JSON object or array found", {"json": 0})
    depth = max(markdown.json_depth(d) for d in docs)
    return Finding(within(depth, p), count_reason(depth, "levels of nesting", p), {"depth": depth, "json": len(docs)})


class XmlAttributesParams(CountRange):
    require_xml: bool = Field(default=True, description="fail when the response has no XML element")
    model_config = ConfigDict(json_schema_extra={"examples": [{"max": 3}, {"min": 5, "max": 5}]})


@check(
    "xml.attributes",
    params=XmlAttributesParams,
    tags=(*_TAGS, "xml", "muldimif"),
    description="Every XML element has a number of attributes within [min, max].",
)
def xml_attributes(view: TextView, p: XmlAttributesParams) -> Finding:
    tags = markdown.xml_start_tags(view.text)
    counts = [n for _, n in tags]
    if not tags:
        return Finding(not p.require_xml, "no XML element", {"elements": 0})
    bad = [(name, n) for name, n in tags if not within(n, p)]
    ev = {"elements": len(tags), "max_attributes": max(counts)}
    if bad:
        name, n = bad[0]
        return Finding(False, f"element <{name}> has {n} attributes; needs {describe_range(p)}", ev)
    return Finding(True, f"{len(tags)} element(s), each with {describe_range(p)} attributes", ev)


class ItemsCountParams(CountRange):
    items: str = Field(description="an item kind, as for 'each' (paragraphs, bullets, tables, sections, ...)")
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": "paragraphs", "min": 3}, {"items": "tables", "min": 1}]}
    )

    @field_validator("items")
    @classmethod
    def _kind(cls, v: str) -> str:
        try:
            return validate_kind(v, "items")
        except SpecError as exc:
            raise ValueError(exc.message) from None


@check(
    "items.count",
    params=ItemsCountParams,
    tags=(*_TAGS, "structure", "muldimif"),
    description="Number of items of a kind (paragraphs, bullets, tables, table_rows, sections, turns, ...) "
    "within [min, max].",
)
def items_count(view: TextView, p: ItemsCountParams) -> Finding:
    n = len(item_views(view, p.items))
    return Finding(within(n, p), count_reason(n, p.items.replace("_", " "), p), {"items": n})
