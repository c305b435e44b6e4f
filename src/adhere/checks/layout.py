"""Layout checks from IFBench's format family: nested brackets and quotes, one-of-options
answers, a word per line, emoji sentence endings, indentation stairs, quotes followed by
explanations, custom list markers, HTML-italic theses, sub-bullets, prose then bullets,
title case, fixed templates, no whitespace.

Each docstring names the reference behaviour a benchmark score depends on.
"""

from __future__ import annotations

import re
import string

from pydantic import ConfigDict, Field

from ..registry import Finding, NoParams, Params, check
from ..text.view import TextView
from ._charsets import PUNCT, PUNCT_SPACE, no_punct, sentences_of, strip_punct, treebank_of

_TAGS = ("format", "ifbench")
_PAIRS = {")": "(", "]": "[", "}": "{"}
_BRACKETS_RE = re.compile(r"[()\[\]{}]")
_QUOTES_RE = re.compile("[\"']")


class DepthParams(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"min_depth": 3}]})

    min_depth: int = Field(ge=1, description="Nesting depth required.")


@check(
    "format.nested_brackets",
    params=DepthParams,
    tags=_TAGS,
    description="(), [] or {} nested at least `min_depth` levels deep and closed.",
)
def nested_brackets(view: TextView, p: DepthParams) -> Finding:
    """Passes as soon as a bracket closes after the open stack reached `min_depth`; a mismatched
    closing bracket resets the count (IFBench's scan)."""
    stack: list[str] = []
    deepest = 0
    for ch in _BRACKETS_RE.findall(view.text):  # only brackets move the scan
        if ch in "([{":
            stack.append(ch)
            deepest = max(deepest, len(stack))
        elif ch in _PAIRS:
            if stack and stack[-1] == _PAIRS[ch]:
                stack.pop()
                if deepest >= p.min_depth and len(stack) < deepest:
                    return Finding(True, f"brackets nest {deepest} levels deep", {"depth": deepest})
            else:
                stack, deepest = [], 0
    return Finding(False, f"no closed bracket nesting of {p.min_depth} levels", {"depth": deepest})


@check(
    "format.nested_quotes",
    params=DepthParams,
    tags=_TAGS,
    description="Quotations nested `min_depth` levels deep, alternating double and single quotes.",
)
def nested_quotes(view: TextView, p: DepthParams) -> Finding:
    """A quote character equal to the innermost open one closes it; any other ' or " opens a level.
    Passes once `min_depth` levels have been closed from the deepest point (IFBench's scan; an
    apostrophe opens a level too)."""
    stack: list[str] = []
    reached = 0
    for ch in _QUOTES_RE.findall(view.text):  # the stack holds quotes only: nothing else moves it
        if stack and ch == stack[-1]:
            stack.pop()
            if reached - len(stack) >= p.min_depth:
                return Finding(True, f"quotes nest {reached} levels deep", {"depth": reached})
        elif ch in "\"'":
            stack.append(ch)
            reached = max(reached, len(stack))
    return Finding(False, f"no quote nesting of {p.min_depth} closed levels", {"depth": reached})


class OptionsParams(Params):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"options": "yes/no/maybe"},
                {"options": "a), b), c), d)"},
                {"options": "I know or I don't know"},
            ]
        }
    )

    options: str = Field(
        description="The allowed answers as written in the prompt: 'yes/no/maybe', 'I know or I don't know', "
        "'a), b), c), d)'. Split on '/', else on 'or', else on ','."
    )


def _split_options(options: str) -> tuple[bool, list[str]]:
    strict = re.match(r"\W*[aA]\W*[bB]\W*[cC]\W*", options) is not None
    sep = "/" if "/" in options else "or" if "or" in options else ","
    return strict, [o.strip() for o in options.split(sep)]


@check(
    "format.one_of_options",
    params=OptionsParams,
    tags=_TAGS,
    description="The whole response is one of the options, nothing else.",
)
def one_of_options(view: TextView, p: OptionsParams) -> Finding:
    """Letter options ('a), b), c)') must match exactly; word options match case-insensitively with
    outer ASCII punctuation and spaces trimmed."""
    strict, options = _split_options(p.options)
    if strict:
        ok = view.text in options
    else:
        answer = view.text.strip(PUNCT_SPACE).lower()
        ok = any(o.strip(PUNCT_SPACE).lower() == answer for o in options)
    return Finding(ok, "the response is one of the options" if ok else f"the response is not one of {options}")


@check(
    "format.word_per_line",
    params=NoParams,
    tags=_TAGS,
    description="Every word on its own line (ASCII punctuation deleted; as many non-empty lines as words).",
)
def word_per_line(view: TextView, p: NoParams) -> Finding:
    """Lines holding only spaces still count as lines, as in IFBench."""
    text = no_punct(view).strip()
    lines = sum(1 for line in text.split("\n") if line != "")
    words = len(text.split())
    return Finding(lines == words, f"{words} words on {lines} lines", {"words": words, "lines": lines})


def _is_emoji(ch: str) -> bool:
    import emoji

    return bool(emoji.is_emoji(ch))


@check(
    "format.emoji_endings",
    params=NoParams,
    tags=_TAGS,
    description="Every sentence ends with an emoji (or the next sentence starts with one).",
)
def emoji_endings(view: TextView, p: NoParams) -> Finding:
    """With ASCII punctuation deleted, a sentence passes if one of its last two characters is an
    emoji, or, for all but the last sentence, if the next sentence starts with one (Punkt often
    puts a trailing emoji at the start of the next sentence)."""
    if view.stripped and not any(_is_emoji(ch) for ch in set(view.text)):
        return Finding(False, "the response has no emoji")  # so its first sentence cannot end with one
    sents = view.iter_sentences()  # split only up to the first sentence that fails
    sent, i = next(sents, None), 0
    while sent is not None:
        after = next(sents, None)
        text = strip_punct(sent).strip()
        if not text:
            return Finding(False, f"sentence {i + 1} is only punctuation", {"sentence": i + 1})
        if not (_is_emoji(text[-1]) or _is_emoji(text[-2] if len(text) > 1 else text[-1])):
            following = strip_punct(after).strip() if after is not None else ""
            if not (following and _is_emoji(following[0])):
                return Finding(False, f"sentence {i + 1} does not end with an emoji", {"sentence": i + 1})
        sent, i = after, i + 1
    return Finding(True, f"all {i} sentences end with an emoji")


def _blank_lines_removed_like_ifbench(lines: list[str]) -> list[str]:
    """IFBench removes blank lines from the list it is iterating over, so the line after each
    removed one is skipped and may survive. Reproduced here on purpose (scores depend on it)."""
    kept = list(lines)
    i = 0
    while i < len(kept):
        line = kept[i]
        if not line.strip():
            kept.remove(line)  # the first equal line, as list.remove does
        i += 1
    return kept


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


@check(
    "format.indent_stairs",
    params=NoParams,
    tags=_TAGS,
    description="Each line is indented by more spaces than the line before it.",
)
def indent_stairs(view: TextView, p: NoParams) -> Finding:
    lines = _blank_lines_removed_like_ifbench(view.lines)
    for i in range(len(lines) - 1):
        if _indent(lines[i + 1]) <= _indent(lines[i]):
            return Finding(
                False,
                f"line {i + 2} is indented {_indent(lines[i + 1])} spaces, not more than {_indent(lines[i])}",
                {"line": i + 2},
            )
    return Finding(True, f"{len(lines)} lines form a staircase")


_LOWER_WORD_RE = re.compile(r"(?<!\S)[a-z]+(?!\S)")
_NOT_QUOTE_PUNCT = string.digits + PUNCT.replace('"', "")


@check(
    "format.quote_then_explanation",
    params=NoParams,
    tags=_TAGS,
    description="No two quoted phrases back to back, and the response does not end on a quote.",
)
def quote_then_explanation(view: TextView, p: NoParams) -> Finding:
    """Only straight double quotes count; whitespace is ignored and the literal '"' (a quote
    character in single quotes) is dropped first, as in IFBench."""
    text = "".join(view.text.replace("'\"'", "").split())
    if '""' in text:
        return Finding(False, "two quotations follow each other without explanation")
    tail = text.strip(_NOT_QUOTE_PUNCT)
    if tail and tail[-1] == '"':
        return Finding(False, "the response ends with a quotation")
    return Finding(True, "every quotation is followed by unquoted text")


class MarkerParams(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"marker": "SEPARATOR"}, {"marker": ""}]})

    marker: str = Field(description="The list-item marker used instead of bullets.")
    min: int = Field(default=2, ge=0, description="Occurrences required.")


@check(
    "format.custom_bullets",
    params=MarkerParams,
    tags=_TAGS,
    description="The custom list marker occurs at least `min` times (anywhere, as IFBench counts it).",
)
def custom_bullets(view: TextView, p: MarkerParams) -> Finding:
    n = view.text.count(p.marker)  # non-overlapping, left to right
    return Finding(n >= p.min, f"found {n} of {p.marker!r}; needs at least {p.min}", {"markers": n})


@check(
    "format.italic_thesis",
    params=NoParams,
    tags=_TAGS,
    description="An HTML-italic (<i>...</i> or <em>...</em>) non-empty thesis followed by more text.",
)
def italic_thesis(view: TextView, p: NoParams) -> Finding:
    """Reproduces IFBench's offsets: the thesis is read from 3 characters after the opening tag's
    start and the rest from 4 after the closing tag's start, also for <em>/</em>."""
    text = view.text
    start = text.find("<i>")
    if start == -1:
        start = text.find("<em>")
        if start == -1:
            return Finding(False, "no <i> or <em> tag")
    text = text[start:]
    end = text.find("</i>")
    if end == -1:
        end = text.find("</em>")
        if end == -1:
            return Finding(False, "the italic thesis is never closed")
    if not text[3:end].strip():
        return Finding(False, "the italic thesis is empty")
    if not text[end + 4 :].strip():
        return Finding(False, "no text follows the italic thesis")
    return Finding(True, "an italic thesis is followed by text")


@check(
    "format.sub_bullets",
    params=NoParams,
    tags=_TAGS,
    description="Every '*' bullet is followed by at least one '-' before the next '*'.",
)
def sub_bullets(view: TextView, p: NoParams) -> Finding:
    """IFBench splits the whole text on '*' (bold markers count too), and a text without any '*'
    passes."""
    parts = view.text.split("*")[1:]
    for i, part in enumerate(parts):
        if "-" not in part:
            return Finding(False, f"'*' number {i + 1} has no '-' sub-bullet after it", {"bullet": i + 1})
    return Finding(True, f"{len(parts)} '*' markers each have a '-' sub-bullet")


@check(
    "format.prose_then_bullets",
    params=NoParams,
    tags=_TAGS,
    description="At least two sentences of prose, then at least two '*' bullet lines, and nothing after.",
)
def prose_then_bullets(view: TextView, p: NoParams) -> Finding:
    """Sentences are counted per line. As in IFBench, a blank line ends the prose part: a text line
    after a blank line (before any bullet) fails."""
    n_sentences = n_bullets = 0
    in_prose = True  # becomes the truthiness of the last prose line's sentences
    for line in view.lines:
        if line.strip().startswith("*"):
            in_prose = False
            if n_sentences < 2:
                return Finding(False, f"a bullet comes after only {n_sentences} sentences", {"sentences": n_sentences})
            n_bullets += 1
        elif in_prose:
            found = sentences_of(view, line.strip())
            n_sentences += len(found)
            in_prose = bool(found)
        else:
            return Finding(False, "text after the bullets, or prose after a blank line", {"bullets": n_bullets})
    return Finding(
        n_bullets >= 2,
        f"{n_sentences} sentences then {n_bullets} bullets; needs 2 and 2",
        {"sentences": n_sentences, "bullets": n_bullets},
    )


@check(
    "format.title_case",
    params=NoParams,
    tags=(*_TAGS, "case"),
    description="Every word token starting with a letter is capitalised (one-letter words upper case).",
)
def title_case(view: TextView, p: NoParams) -> Finding:
    """Tokens are nltk word tokens. Fails on 'word' and 'wORD'; mixed forms like 'iPhone' pass.

    A whitespace-separated word of lower-case ASCII letters is (or splits into, for 'cannot')
    failing tokens, so it decides before tokenising."""
    lower_word = _LOWER_WORD_RE.search(view.text)
    if lower_word is not None:
        return Finding(False, f"{lower_word.group()!r} is not capitalised", {"word": lower_word.group()})
    for tok in treebank_of(view, view.text):
        if not tok or not tok[0].isalpha():
            continue
        head, rest = tok[0], tok[1:]
        if len(tok) == 1:
            if head.islower():
                return Finding(False, f"{tok!r} is lower case", {"word": tok})
            continue
        if head.isupper() and rest.islower():
            continue
        if head.islower() and (rest.isupper() or rest.islower()):
            return Finding(False, f"{tok!r} is not capitalised", {"word": tok})
    return Finding(True, "every word is capitalised")


class TemplateParams(Params):
    markers: tuple[str, ...] = Field(
        default=("My Answer:", "My Conclusion:", "Future Outlook:"),
        min_length=1,
        description="Texts that must all appear (case-sensitive).",
    )


@check(
    "format.template_markers",
    params=TemplateParams,
    tags=_TAGS,
    description="Every template marker appears in the response (in any order).",
)
def template_markers(view: TextView, p: TemplateParams) -> Finding:
    missing = [m for m in p.markers if m not in view.text]
    if missing:
        return Finding(False, f"missing {missing}", {"missing": missing})
    return Finding(True, "every template marker appears")


@check(
    "format.no_whitespace",
    params=NoParams,
    tags=_TAGS,
    description="The response contains no whitespace character.",
)
def no_whitespace(view: TextView, p: NoParams) -> Finding:
    n = sum(1 for ch in view.text if ch.isspace())
    return Finding(n == 0, "no whitespace" if n == 0 else f"found {n} whitespace characters", {"whitespace": n})
