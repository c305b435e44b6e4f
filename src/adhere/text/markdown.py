"""Markdown structure and embedded data: headings, sections, tables, block quotes, JSON, XML.

Pure functions of a text, used through a :class:`~adhere.text.view.TextView`'s memo
(:func:`structure` memoises the parse of one view), so ten checks on one response parse
its Markdown once. Lines inside fenced code blocks are never headings, table rows or
quotes: a ``# comment`` in a Python block is not a heading.

The definitions follow what a reader of rendered Markdown sees, kept simple and stated
here so checks and specs can rely on them:

* **heading**: an ATX line, up to 3 spaces, 1–6 ``#``, then a space or the end of line.
  Setext underlines are not headings (``---`` is far more often a rule or a table border).
* **section**: a heading with everything up to the next heading of any level. Text before
  the first heading is the *preamble* and is not a section.
* **table**: a block of consecutive lines that each start with ``|`` (after indentation), or a
  GitHub table whose second line is a delimiter row (``---|---``). The first line is the
  header; delimiter rows are not rows; *rows* are the data rows below the header. Columns are
  the most cells any line of the table has.
* **block quote**: a line starting with ``>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

__all__ = [
    "Heading",
    "Structure",
    "Table",
    "json_depth",
    "json_documents",
    "parse",
    "split_cells",
    "structure_of",
    "xml_start_tags",
]

_FENCE_OPEN_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_CLOSING_HASHES_RE = re.compile(r"[ \t]+#+$")
_DELIMITER_RE = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(?:\|\s*:?-{1,}:?\s*)*\|?\s*$")
_QUOTE_RE = re.compile(r"^ {0,3}>\s?(.*)$")


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    title: str
    line: int


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    columns: int
    first_line: int
    text: str

    @property
    def cells(self) -> list[str]:
        """Data cells (not the header), row by row."""
        return [cell for row in self.rows for cell in row]

    def column(self, name: str) -> list[str] | None:
        """Cells of the column whose header contains ``name`` (case-insensitive), or None."""
        want = name.strip().lower()
        for i, head in enumerate(self.header):
            if want and want in head.strip().strip("*").lower():
                return [row[i] for row in self.rows if i < len(row)]
        return None


@dataclass(frozen=True, slots=True)
class Structure:
    """The Markdown structure of one text."""

    headings: tuple[Heading, ...]
    sections: tuple[str, ...]
    tables: tuple[Table, ...]
    quotes: tuple[str, ...]
    prose_lines: tuple[str, ...]


def split_cells(line: str) -> list[str]:
    """Cells of one table line: split on unescaped ``|``, edge pipes dropped, cells stripped."""
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    parts = re.split(r"(?<!\\)\|", s)
    return [p.strip() for p in parts]


def _code_mask(lines: list[str]) -> list[bool]:
    """True for lines inside (or fencing) a fenced code block."""
    mask = [False] * len(lines)
    fence: str | None = None
    for i, line in enumerate(lines):
        m = _FENCE_OPEN_RE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)[0] * len(m.group(1))
                mask[i] = True
        else:
            mask[i] = True
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                fence = None
    return mask


def _tables(lines: list[str], code: list[bool]) -> list[Table]:
    tables: list[Table] = []
    i, n = 0, len(lines)
    while i < n:
        if code[i] or "|" not in lines[i]:
            i += 1
            continue
        starts_with_pipe = lines[i].lstrip().startswith("|")
        gfm = i + 1 < n and not code[i + 1] and _DELIMITER_RE.match(lines[i + 1]) is not None and "-" in lines[i + 1]
        if not starts_with_pipe and not gfm:
            i += 1
            continue
        j = i + 1
        while (
            j < n
            and not code[j]
            and lines[j].strip()
            and (lines[j].lstrip().startswith("|") or (gfm and "|" in lines[j]))
        ):
            j += 1
        block = lines[i:j]
        if len(block) == 1 and not gfm and block[0].strip().count("|") < 2:
            i = j
            continue
        header = tuple(split_cells(block[0]))
        rows = tuple(tuple(split_cells(line)) for line in block[1:] if not (_DELIMITER_RE.match(line) and "-" in line))
        columns = max([len(header)] + [len(r) for r in rows])
        tables.append(Table(header, rows, columns, i, "\n".join(block)))
        i = j
    return tables


def parse(text: str) -> Structure:
    """The Markdown structure of ``text`` (see the module docstring for definitions)."""
    lines = text.split("\n")
    code = _code_mask(lines)
    headings: list[Heading] = []
    quotes: list[str] = []
    prose: list[str] = []
    for i, line in enumerate(lines):
        if code[i]:
            continue
        m = _HEADING_RE.match(line)
        if m:
            title = _CLOSING_HASHES_RE.sub("", (m.group(2) or "").strip())
            headings.append(Heading(len(m.group(1)), title.strip(), i))
            continue
        q = _QUOTE_RE.match(line)
        if q:
            quotes.append(q.group(1))
        prose.append(line)
    tables = _tables(lines, code)
    sections: list[str] = []
    for k, h in enumerate(headings):
        end = headings[k + 1].line if k + 1 < len(headings) else len(lines)
        sections.append("\n".join(lines[h.line : end]).strip())
    return Structure(tuple(headings), tuple(sections), tuple(tables), tuple(quotes), tuple(prose))


# -- JSON ----------------------------------------------------------------------------------

_JSON_FENCE_RE = re.compile(r"```[ \t]*(?:json|JSON|jsonc)?[ \t]*\n(.*?)```", re.DOTALL)


def _try_json(s: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(s)
    except (ValueError, RecursionError):
        return False, None


def json_documents(text: str) -> list[Any]:
    """JSON values a response presents: the whole text, else each fenced block that parses,
    else the widest ``{...}`` or ``[...]`` span that parses. Scalars alone do not count."""
    ok, value = _try_json(text.strip())
    if ok and isinstance(value, (dict, list)):
        return [value]
    docs: list[Any] = []
    for block in _JSON_FENCE_RE.findall(text):
        ok, value = _try_json(block.strip())
        if ok and isinstance(value, (dict, list)):
            docs.append(value)
    if docs:
        return docs
    for open_, close in (("{", "}"), ("[", "]")):
        start, end = text.find(open_), text.rfind(close)
        if 0 <= start < end:
            ok, value = _try_json(text[start : end + 1])
            if ok and isinstance(value, (dict, list)):
                return [value]
    return []


def json_depth(value: Any) -> int:
    """Nesting depth counted in containers: ``1`` → 0, ``{"a": 1}`` → 1, ``{"a": {"b": 1}}`` → 2.

    Iterative, so a hostile, deeply nested document cannot exhaust the stack.
    """
    best = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            best = max(best, depth + 1)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            best = max(best, depth + 1)
            stack.extend((v, depth + 1) for v in node)
    return best


def json_keys(value: Any) -> Iterator[str]:
    """Every object key of a JSON value, depth first."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                yield str(k)
                stack.append(v)
        elif isinstance(node, list):
            stack.extend(node)


def json_strings(value: Any) -> Iterator[str]:
    """Every string leaf of a JSON value."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            yield node


# -- XML -------------------------------------------------------------------------------------

_XML_TAG_RE = re.compile(r"<([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_:][\w.:-]*\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*/?>")
_XML_ATTR_RE = re.compile(r"[A-Za-z_:][\w.:-]*\s*=\s*(?:\"[^\"]*\"|'[^']*')")


def xml_start_tags(text: str) -> list[tuple[str, int]]:
    """``(name, attribute count)`` of every XML/HTML start tag in ``text``.

    A tolerant scan rather than a parser: a response's XML is often a fragment, and
    attribute counts are well defined on start tags alone.
    """
    return [(m.group(1), len(_XML_ATTR_RE.findall(m.group(2)))) for m in _XML_TAG_RE.finditer(text)]


if TYPE_CHECKING:
    from .view import TextView


def structure_of(view: TextView) -> Structure:
    """The memoised :func:`parse` of a view's text (one parse per response)."""
    return view.memo("markdown.structure", lambda: parse(view.text))
