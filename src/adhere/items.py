"""Items: the parts of a response that ``each``, ``within`` and ``sequence`` iterate over.

An item kind is a name (``"paragraphs"``) or a name with an argument after a colon
(``"table_column:Price"``, ``"split:^---$"``). :func:`item_views` turns a view into one
:class:`~adhere.text.TextView` per item, each carrying the prompt and the dialogue of its
parent, so every check works on an item as on a whole response.

Built-in kinds (``adhere list`` and ``docs/specs.md`` describe them):

=================  ==========================================================================
kind               items
=================  ==========================================================================
paragraphs         blocks separated by blank lines
sentences          sentences (nltk Punkt, English)
lines              non-empty lines
bullets            Markdown list items (``*``, ``-``, ``+``, ``1.``, ``1)``); ``list_items`` too
code_blocks        bodies of fenced code blocks
sections           a heading with its body, up to the next heading (the preamble is not one)
headings           heading titles
quotes             block-quote lines (``>``)
tables             each table's Markdown
table_rows         data rows of every table (cells joined by `` | ``)
table_cells        data cells of every table
table_header       header cells of every table
table_column:NAME  cells of the column whose header contains NAME, in every table
json_keys          object keys of the JSON the response presents
json_strings       string values of that JSON
entries            what the response enumerates: list items if it has two or more, else table
                   rows, else sections if it has two or more, else paragraphs
split:REGEX        pieces between matches of REGEX (multiline); a lookahead keeps markers
turns              the assistant turns of the dialogue (each with its own prompt)
=================  ==========================================================================

Third-party code adds kinds with :func:`register_items`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import SpecError
from .subjects import attach_conversation, conversation_of, linked_conversation
from .text import markdown
from .text.view import ITEM_KINDS, TextView

__all__ = ["ITEMS", "ItemKind", "derive_view", "item_views", "register_items", "validate_kind"]

ItemGetter = Callable[[TextView, str], list[str]]


@dataclass(frozen=True, slots=True)
class ItemKind:
    name: str
    getter: ItemGetter
    description: str
    takes_arg: bool = False


ITEMS: dict[str, ItemKind] = {}


def register_items(name: str, getter: ItemGetter, description: str, *, takes_arg: bool = False) -> None:
    """Add an item kind. ``getter(view, arg)`` returns the items' texts (``arg`` is '' when
    the kind takes none)."""
    ITEMS[name] = ItemKind(name, getter, description, takes_arg)


def derive_view(parent: TextView, text: str) -> TextView:
    """A view of ``text`` (a part or a variant of ``parent``) with the parent's prompt and dialogue."""
    child = TextView(text, parent.prompt)
    conv = linked_conversation(parent)
    if conv is not None:
        attach_conversation(child, conv)
    return child


def _split_kind(kind: str) -> tuple[str, str]:
    name, _, arg = kind.partition(":")
    return name, arg


def validate_kind(kind: object, path: str) -> str:
    """Check an item kind at parse time; raise :class:`SpecError` naming ``path``."""
    if not isinstance(kind, str):
        raise SpecError(f"an item kind must be a string, got {type(kind).__name__} {kind!r}", path)
    name, arg = _split_kind(kind)
    info = ITEMS.get(name)
    if info is None and name in ITEM_KINDS:
        if arg:
            raise SpecError(f"item kind {name!r} takes no argument (got {arg!r})", path)
        return kind
    if info is None:
        import difflib

        known = sorted(set(ITEMS) | set(ITEM_KINDS))
        close = difflib.get_close_matches(name, known, n=2)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise SpecError(f"cannot iterate over {kind!r}{hint} (item kinds: {', '.join(known)})", path)
    if info.takes_arg and not arg:
        raise SpecError(f"item kind {name!r} needs an argument, as in '{name}:...'", path)
    if not info.takes_arg and arg:
        raise SpecError(f"item kind {name!r} takes no argument (got {arg!r})", path)
    if name == "split":
        if len(arg) > 1000:
            raise SpecError("a split pattern must be at most 1000 characters", path)
        try:
            re.compile(arg, re.MULTILINE)
        except re.error as exc:
            raise SpecError(f"invalid split pattern {arg!r}: {exc}", path) from None
    return kind


def item_views(view: TextView, kind: str) -> list[TextView]:
    """One view per item of ``kind`` in ``view`` (memoised per view and kind)."""

    def compute() -> list[TextView]:
        name, arg = _split_kind(kind)
        if name == "turns":
            conv = conversation_of(view)
            return [conv.turn_view(i) for i in range(len(conv.assistant_indices))]
        info = ITEMS.get(name)
        texts = info.getter(view, arg) if info is not None else ITEM_KINDS[name](view)
        return [derive_view(view, t) for t in texts]

    return view.memo(("items", kind), compute)


# -- built-in kinds ------------------------------------------------------------------------


def _md(view: TextView) -> markdown.Structure:
    return markdown.structure_of(view)


def _json_docs(view: TextView) -> list[object]:
    return view.memo("markdown.json", lambda: markdown.json_documents(view.text))


def _entries(view: TextView, _: str) -> list[str]:
    if len(view.bullets) >= 2:
        return list(view.bullets)
    md = _md(view)
    rows = [" | ".join(r) for t in md.tables for r in t.rows]
    if rows:
        return rows
    if len(md.sections) >= 2:
        return list(md.sections)
    return list(view.paragraphs)


def _table_column(view: TextView, name: str) -> list[str]:
    cells: list[str] = []
    for table in _md(view).tables:
        col = table.column(name)
        if col is not None:
            cells.extend(col)
    return cells


def _split(view: TextView, pattern: str) -> list[str]:
    pieces = re.split(pattern, view.text, flags=re.MULTILINE)
    return [p.strip() for p in pieces if p and p.strip()]


register_items("list_items", lambda v, _: list(v.bullets), "Markdown list items (same as bullets)")
register_items("sections", lambda v, _: list(_md(v).sections), "a heading with its body, up to the next heading")
register_items("headings", lambda v, _: [h.title for h in _md(v).headings], "heading titles")
register_items("quotes", lambda v, _: list(_md(v).quotes), "block-quote lines")
register_items("tables", lambda v, _: [t.text for t in _md(v).tables], "each table's Markdown")
register_items(
    "table_rows", lambda v, _: [" | ".join(r) for t in _md(v).tables for r in t.rows], "data rows of every table"
)
register_items("table_cells", lambda v, _: [c for t in _md(v).tables for c in t.cells], "data cells of every table")
register_items("table_header", lambda v, _: [c for t in _md(v).tables for c in t.header], "header cells of every table")
register_items("table_column", _table_column, "cells of the column whose header contains the argument", takes_arg=True)
register_items(
    "json_keys",
    lambda v, _: [k for d in _json_docs(v) for k in markdown.json_keys(d)],
    "object keys of the JSON the response presents",
)
register_items(
    "json_strings",
    lambda v, _: [s for d in _json_docs(v) for s in markdown.json_strings(d)],
    "string values of the JSON the response presents",
)
register_items("entries", _entries, "list items, else table rows, else sections, else paragraphs")
register_items("split", _split, "pieces between matches of a regex (multiline)", takes_arg=True)
register_items("turns", lambda v, _: conversation_of(v).assistant_turns, "the assistant turns of the dialogue")
