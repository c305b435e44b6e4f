"""Fixed-answer tasks (IFBench's ``custom:*`` family): number sequences, multiple-choice
quizzes, reverse-sorted lines, reversed answers, capital lists, CSV tables, date lists.

Each check is parameterised by its expected content, with IFBench's values as defaults.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata

from pydantic import Field

from ..registry import Finding, Params, check
from ..text.view import TextView
from ._charsets import PUNCT_SPACE, sentences_of, strip_punct

_TAGS = ("task", "ifbench")


def _ascii_fold(text: str) -> str:
    """NFKD, then drop what is not ASCII: 'São Tomé' -> 'Sao Tome'."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


class SequenceParams(Params):
    numbers: tuple[int, ...] = Field(default=(14, 21, 28, 35, 42, 49), description="The numbers, in order.")


_DIGITS_RE = re.compile(r"\d+")


@check(
    "task.number_sequence",
    params=SequenceParams,
    tags=_TAGS,
    description="The digit runs of the response are exactly `numbers`, in order, and nothing else.",
)
def number_sequence(view: TextView, p: SequenceParams) -> Finding:
    found = _DIGITS_RE.findall(view.text.replace(",", ", "))
    ok = found == [str(n) for n in p.numbers]
    return Finding(ok, f"found numbers {found[:20]}", {"numbers": found[:50]})


class QuizParams(Params):
    questions: int = Field(default=4, ge=1, description="Questions required.")
    options: int = Field(default=5, ge=1, description="Options per question.")


_QUESTION_SPLIT_RE = re.compile(r"\n*(?:Question \d+[\.|\):;]?\s*)")
_OPTION_RE = re.compile(r"^[A-Ea-e][\.|\)]\s*\w+")


@check(
    "task.quiz",
    params=QuizParams,
    tags=_TAGS,
    description="Only 'Question N' blocks, each with `options` lettered options, each question longer than the last.",
)
def quiz(view: TextView, p: QuizParams) -> Finding:
    """Options are lines like 'A. text' or 'b) text' (letters A-E); the question text is what comes
    before the first option line. The response must start with 'Question'."""
    text = view.text
    if not text.startswith("Question"):
        return Finding(False, "the response does not start with 'Question'")
    blocks = _QUESTION_SPLIT_RE.split(text)
    if blocks and blocks[0] == "":
        blocks = blocks[1:]
    blocks = [b.strip() for b in blocks if b.strip()]
    if len(blocks) != p.questions:
        return Finding(False, f"found {len(blocks)} questions; needs {p.questions}", {"questions": len(blocks)})
    lengths: list[int] = []
    for i, block in enumerate(blocks):
        question, n_options, in_options = "", 0, False
        for line in block.split("\n"):
            if _OPTION_RE.match(line.strip()):
                n_options += 1
                in_options = True
            elif not in_options:
                question += " " + line.strip()
        if n_options != p.options:
            return Finding(False, f"question {i + 1} has {n_options} options; needs {p.options}", {"question": i + 1})
        lengths.append(len(question.strip()))
    ok = all(a < b for a, b in itertools.pairwise(lengths))
    return Finding(ok, f"question lengths {lengths}", {"lengths": lengths})


class ReverseLinesParams(Params):
    first: str = Field(default="Zimbabwe", description="Text of the line where the list starts.")
    min_lines: int = Field(default=52, ge=1, description="Lines required from that line on.")


@check(
    "task.reverse_sorted_lines",
    params=ReverseLinesParams,
    tags=_TAGS,
    description="From the line containing `first`, at least `min_lines` lines in reverse alphabetical order.",
)
def reverse_sorted_lines(view: TextView, p: ReverseLinesParams) -> Finding:
    """Lines are trimmed of ASCII punctuation and spaces (empty ones dropped) and compared after
    folding accents to ASCII."""
    lines = [t for t in (line.strip(PUNCT_SPACE) for line in view.lines) if t]
    start = next((i for i, line in enumerate(lines) if p.first in line), None)
    if start is None:
        return Finding(False, f"no line contains {p.first!r}")
    target = [_ascii_fold(line) for line in lines[start:]]
    if len(target) < p.min_lines:
        return Finding(
            False, f"found {len(target)} lines from {p.first!r}; needs {p.min_lines}", {"lines": len(target)}
        )
    ok = target == sorted(target, reverse=True)
    return Finding(ok, f"{len(target)} lines {'are' if ok else 'are not'} in reverse order", {"lines": len(target)})


class PhraseParams(Params):
    phrase: str = Field(default="bald eagle", description="The answer phrase (lower case).")


@check(
    "task.reversed_words",
    params=PhraseParams,
    tags=_TAGS,
    description="Read backwards word by word, the response is one sentence containing `phrase`.",
)
def reversed_words(view: TextView, p: PhraseParams) -> Finding:
    """The response is lowercased, ASCII punctuation deleted and its words reversed; the result must
    contain the phrase and be a single Punkt sentence."""
    forward = " ".join(strip_punct(view.text.lower().strip()).split()[::-1])
    if p.phrase not in forward:
        return Finding(False, f"read backwards, the response does not contain {p.phrase!r}", {"forward": forward[:200]})
    ok = forward in sentences_of(view, forward)
    return Finding(ok, "read backwards it is one sentence" if ok else "read backwards it is not one sentence")


@check(
    "task.reversed_characters",
    params=PhraseParams,
    tags=_TAGS,
    description="The response contains `phrase` spelled backwards (case-insensitive).",
)
def reversed_characters(view: TextView, p: PhraseParams) -> Finding:
    backwards = p.phrase[::-1]
    ok = backwards in view.lower
    return Finding(ok, f"{'contains' if ok else 'does not contain'} {backwards!r}")


_CAPITALS = [
    "Reykjavik",
    "Helsinki",
    "Oslo",
    "Tallinn",
    "Stockholm",
    "Riga",
    "Moscow",
    "Copenhagen",
    "Vilnius",
    "Minsk",
    "Dublin",
    "Berlin",
    "Amsterdam",
    "Warsaw",
    "London",
    "Brussels",
    "Prague",
    "Luxembourg",
    "Paris",
    "Vienna",
    "Bratislava",
    "Budapest",
    "Vaduz",
    "Chisinau",
    "Bern",
    "Ljubljana",
    "Zagreb",
]


class ItemsParams(Params):
    items: tuple[str, ...] = Field(
        default=tuple(_CAPITALS), min_length=1, description="The expected items, in order (accents folded to ASCII)."
    )


@check(
    "task.comma_list",
    params=ItemsParams,
    tags=_TAGS,
    description="The response is exactly `items`, comma-separated, in order.",
)
def comma_list(view: TextView, p: ItemsParams) -> Finding:
    got = [part.strip() for part in _ascii_fold(view.text).split(",") if part.strip()]
    if len(got) != len(p.items):
        return Finding(False, f"found {len(got)} items; needs {len(p.items)}", {"items": len(got)})
    for i, (a, b) in enumerate(zip(got, p.items, strict=True)):
        if a != b:
            return Finding(False, f"item {i + 1} is {a!r}; expected {b!r}", {"item": i + 1})
    return Finding(True, f"all {len(got)} items in order")


def _read_csv(text: str, delimiter: str = ",") -> list[list[str]] | None:
    try:
        return list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:
        return None


class CsvParams(Params):
    header: tuple[str, ...] = Field(
        default=("ID", "Country", "City", "Year", "Count"), min_length=1, description="The header row."
    )
    rows: int = Field(default=7, ge=0, description="Data rows required.")


@check(
    "task.csv_table",
    params=CsvParams,
    tags=_TAGS,
    description="The whole response is comma-separated CSV: the exact header and `rows` rows of the same width.",
)
def csv_table(view: TextView, p: CsvParams) -> Finding:
    data = _read_csv(view.text)
    if data is None:
        return Finding(False, "not readable as CSV")
    if len(data) != p.rows + 1:
        return Finding(False, f"found {len(data)} CSV lines; needs {p.rows + 1}", {"lines": len(data)})
    if data[0] != list(p.header):
        return Finding(False, f"the header is {data[0]}", {"header": data[0]})
    bad = next((i for i, row in enumerate(data[1:], start=2) if len(row) != len(p.header)), None)
    if bad is not None:
        return Finding(False, f"CSV line {bad} has {len(data[bad - 1])} fields", {"line": bad})
    return Finding(True, f"a {p.rows}-row CSV table with the right header")


def _header_re(header: tuple[str, ...], sep: str) -> re.Pattern[str]:
    cells = [f'({re.escape(h)}|"{re.escape(h)}")' for h in header]
    return re.compile("^" + sep.join(cells) + "$")


class QuotedCsvParams(Params):
    header: tuple[str, ...] = Field(
        default=("ProductID", "Category", "Brand", "Price", "Stock"), min_length=1, description="The header row."
    )
    rows: int = Field(default=14, ge=0, description="Data rows required.")


@check(
    "task.csv_quoted_special",
    params=QuotedCsvParams,
    tags=_TAGS,
    description="Comma CSV with the header (cells optionally quoted) and `rows` rows, one field a double-quoted "
    "value with a special character.",
)
def csv_quoted_special(view: TextView, p: QuotedCsvParams) -> Finding:
    """As in IFBench, quotes are tripled before parsing so they survive as characters; the check
    passes at the first quoted field with a non-word character (rows after it are not checked)."""
    header = view.text.split("\n")[0].strip()
    if not _header_re(p.header, r",[ \t]*").match(header):
        return Finding(False, f"the first line is not the header: {header[:100]!r}")
    data = _read_csv(view.text.replace('"', '"""'))
    if data is None:
        return Finding(False, "not readable as CSV")
    if len(data) != p.rows + 1:
        return Finding(False, f"found {len(data)} CSV lines; needs {p.rows + 1}", {"lines": len(data)})
    special = re.compile(r'".*[^\d\w\s].*"')
    for i, row in enumerate(data[1:], start=2):
        if len(row) != len(p.header):
            return Finding(False, f"CSV line {i} has {len(row)} fields", {"line": i})
        if any(special.match(field) for field in row):
            return Finding(True, f"line {i} has a quoted field with a special character", {"line": i})
    return Finding(False, "no quoted field with a special character")


class TabCsvParams(Params):
    header: tuple[str, ...] = Field(
        default=("StudentID", "Subject", "Grade", "Semester", "Score"), min_length=1, description="The header row."
    )
    rows: int = Field(default=3, ge=0, description="Data rows required.")


@check(
    "task.csv_all_quoted",
    params=TabCsvParams,
    tags=_TAGS,
    description="Tab-separated CSV with the header and `rows` rows, every field in double quotes.",
)
def csv_all_quoted(view: TextView, p: TabCsvParams) -> Finding:
    """An empty field fails here (IFBench's checker raises IndexError on one)."""
    header = view.text.split("\n")[0].strip()
    if not _header_re(p.header, r"\t *").match(header):
        return Finding(False, f"the first line is not the tab-separated header: {header[:100]!r}")
    data = _read_csv(view.text.replace('"', '"""'), delimiter="\t")
    if data is None:
        return Finding(False, "not readable as CSV")
    if len(data) != p.rows + 1:
        return Finding(False, f"found {len(data)} CSV lines; needs {p.rows + 1}", {"lines": len(data)})
    for i, row in enumerate(data, start=1):
        if len(row) != len(p.header):
            return Finding(False, f"CSV line {i} has {len(row)} fields", {"line": i})
        for field in row:
            cell = field.strip()
            if not cell or cell[0] != '"' or cell[-1] != '"':
                return Finding(False, f"CSV line {i} has an unquoted field {field!r}", {"line": i})
    return Finding(True, "every field is quoted")


class DatesParams(Params):
    min_year: int = Field(default=1769, description="Earliest year allowed.")
    max_year: int = Field(default=1821, description="Latest year allowed.")


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_DAYS = {1: 31, 3: 31, 5: 31, 7: 31, 8: 31, 10: 31, 12: 31, 4: 30, 6: 30, 9: 30, 11: 30, 2: 29}


@check(
    "task.date_list",
    params=DatesParams,
    tags=_TAGS,
    description="Only comma-separated YYYY-MM-DD dates with years in [min_year, max_year].",
)
def date_list(view: TextView, p: DatesParams) -> Finding:
    """Months must be at most 12 and days fit the month (February up to 29); month and day 00
    pass, as in IFBench."""
    for item in view.stripped.split(","):
        item = item.strip()
        if not _DATE_RE.match(item):
            return Finding(False, f"{item[:40]!r} is not a YYYY-MM-DD date")
        year, month, day = (int(x) for x in item.split("-"))
        if not p.min_year <= year <= p.max_year:
            return Finding(False, f"{item} is outside {p.min_year}-{p.max_year}")
        if month > 12 or day > _MONTH_DAYS.get(month, 99):
            return Finding(False, f"{item} is not a valid date")
    return Finding(True, "every item is a valid date")
