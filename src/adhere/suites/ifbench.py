"""IFBench (Pyatkin et al. 2025): 58 out-of-distribution verifiable constraints.

Each IFBench instruction id maps onto one general adhere check through a small table
(``id -> (check id, parameter builder, accepted kwargs)``); no instruction has its own copy
of the logic (``count:word_count_range`` reuses IFEval's ``length.words``). IFBench's dataset
rows carry *dense* kwargs (all 42 argument names, null when unused, numbers stored as floats
such as ``15.0``): nulls are dropped, integral floats become integers, and the check's
parameter model validates the rest, so a bad value fails loudly with its place named
(``key 12: kwargs[0]``). Missing kwargs are refused, never drawn at random as the reference
would.

Scoring, result rows and the summary are IFEval's (:class:`~adhere.suites.ifeval.IFEvalSuite`,
reused): an empty or blank response fails every instruction; loose mode passes an instruction
if any of the eight response variants passes (blank variants never do). IFBench's loose pass
receives the kwargs its strict pass already stripped of nulls; both modes here use exactly
those. Responses are matched by key, else by exact prompt, else by whitespace-stripped prompt
(IFBench PR #27); a prompt without a response fails and stays in the denominator.

Reference quirks kept on purpose (scores depend on them) are named in each check's docstring.
``words:start_verb`` needs a part-of-speech tagger: nltk's own model when its data is
installed, else TextBlob's bundled Pattern tagger (``pip install 'adhere[pos]'``); without
either it is unscorable with an install hint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from ..errors import SpecError
from ..registry import REGISTRY
from ..spec import IFEVAL_VARIANTS, AllNode, CheckNode, LooseNode, Node, Spec
from .base import register_suite
from .ifeval import IFEvalSuite

__all__ = ["IFBENCH_CHECKS", "IFBenchSuite", "clean_kwargs", "ifbench_spec", "instruction_node"]

HF_DATASET = "allenai/IFBench_test"

Builder = Callable[[Mapping[str, Any]], dict[str, Any]]


class _Entry(NamedTuple):
    check: str
    build: Builder
    accepts: tuple[str, ...] = ()


def _fixed(**params: Any) -> Builder:
    """A builder for an instruction without kwargs (its check's parameters are fixed)."""
    return lambda kw: dict(params)


def _renamed(check: str, **names: str) -> _Entry:
    """An entry copying IFBench kwargs to check parameters under new names."""
    return _Entry(check, lambda kw: {dst: kw[src] for dst, src in names.items()}, tuple(names.values()))


_KEYWORD_COUNTS = (1, 2, 3, 5, 7)
_KEYWORD_ARGS = tuple(f"keyword{i}" for i in range(1, 6))


def _keyword_tally(kw: Mapping[str, Any]) -> dict[str, Any]:
    return {"keywords": [(kw[n], c) for n, c in zip(_KEYWORD_ARGS, _KEYWORD_COUNTS, strict=True)]}


#: IFBench id -> (adhere check, kwargs -> check parameters, the kwargs it takes).
_TABLE: dict[str, _Entry] = {
    "count:word_count_range": _renamed("length.words", min="min_words", max="max_words"),
    "count:unique_word_count": _renamed("count.unique_words", min="N"),
    "ratio:stop_words": _renamed("ratio.stop_words", max_percent="percentage"),
    "ratio:sentence_type": _Entry("ratio.sentence_types", _fixed(declarative=2, interrogative=1)),
    "ratio:sentence_balance": _Entry("ratio.sentence_types_balanced", _fixed()),
    "count:conjunctions": _renamed("count.conjunctions", min="small_n"),
    "count:person_names": _renamed("count.person_names", min="N"),
    "ratio:overlap": _renamed("ratio.trigram_overlap", reference="reference_text", percent="percentage"),
    "count:numbers": _renamed("count.numbers", exactly="N"),
    "words:alphabet": _Entry("words.alphabet_chain", _fixed()),
    "words:vowel": _Entry("words.few_vowels", _fixed()),
    "words:consonants": _Entry("words.consonant_clusters", _fixed()),
    "sentence:alliteration_increment": _Entry("sentences.alliteration_grows", _fixed()),
    "words:palindrome": _Entry("words.palindromes", _fixed()),
    "count:punctuation": _Entry("count.punctuation_marks", _fixed()),
    "format:parentheses": _Entry("format.nested_brackets", _fixed(min_depth=5)),
    "format:quotes": _Entry("format.nested_quotes", _fixed(min_depth=3)),
    "words:prime_lengths": _Entry("words.prime_lengths", _fixed()),
    "format:options": _renamed("format.one_of_options", options="options"),
    "format:newline": _Entry("format.word_per_line", _fixed()),
    "format:emoji": _Entry("format.emoji_endings", _fixed()),
    "ratio:sentence_words": _Entry("sentences.equal_length", _fixed(count=3)),
    "count:words_japanese": _renamed("words.japanese_every_nth", n="N"),
    "words:start_verb": _Entry("words.start_verb", _fixed()),
    "words:repeats": _renamed("words.max_repeats", max="small_n"),
    "sentence:keyword": _renamed("keywords.in_sentence", keyword="word", sentence="N"),
    "count:pronouns": _renamed("count.pronouns", min="N"),
    "words:odd_even_syllables": _Entry("words.syllable_parity_alternates", _fixed()),
    "words:last_first": _Entry("sentences.chain_last_first", _fixed()),
    "words:paragraph_last_first": _Entry("paragraphs.same_first_last_word", _fixed()),
    "sentence:increment": _renamed("sentences.word_step", step="small_n"),
    "words:no_consecutive": _Entry("words.no_shared_initials", _fixed()),
    "format:line_indent": _Entry("format.indent_stairs", _fixed()),
    "format:quote_unquote": _Entry("format.quote_then_explanation", _fixed()),
    "format:list": _renamed("format.custom_bullets", marker="sep"),
    "format:thesis": _Entry("format.italic_thesis", _fixed()),
    "format:sub-bullets": _Entry("format.sub_bullets", _fixed()),
    "format:no_bullets_bullets": _Entry("format.prose_then_bullets", _fixed()),
    "custom:multiples": _Entry("task.number_sequence", _fixed()),
    "custom:mcq_count_length": _Entry("task.quiz", _fixed()),
    "custom:reverse_newline": _Entry("task.reverse_sorted_lines", _fixed()),
    "custom:word_reverse": _Entry("task.reversed_words", _fixed()),
    "custom:character_reverse": _Entry("task.reversed_characters", _fixed()),
    "custom:sentence_alphabet": _Entry("sentences.alphabet_openings", _fixed()),
    "custom:european_capitals_sort": _Entry("task.comma_list", _fixed()),
    "custom:csv_city": _Entry("task.csv_table", _fixed()),
    "custom:csv_special_character": _Entry("task.csv_quoted_special", _fixed()),
    "custom:csv_quotes": _Entry("task.csv_all_quoted", _fixed()),
    "custom:date_format_list": _Entry("task.date_list", _fixed()),
    "count:keywords_multiple": _Entry("count.keyword_tally", _keyword_tally, _KEYWORD_ARGS),
    "words:keywords_specific_position": _renamed("keywords.at_word", keyword="keyword", sentence="n", word="m"),
    "words:words_position": _renamed("keywords.second_and_penultimate", keyword="keyword"),
    "repeat:repeat_change": _renamed("copy.request_first_word_changed", request="prompt_to_repeat"),
    "repeat:repeat_simple": _Entry(
        "copy.exact_text", _fixed(text="Only output this sentence here, ignore all other requests.")
    ),
    "repeat:repeat_span": _renamed("copy.char_span", source="prompt_to_repeat", start="n_start", end="n_end"),
    "format:title_case": _Entry("format.title_case", _fixed()),
    "format:output_template": _Entry("format.template_markers", _fixed()),
    "format:no_whitespace": _Entry("format.no_whitespace", _fixed()),
}

#: IFBench instruction id -> the adhere check that implements it.
IFBENCH_CHECKS: Mapping[str, str] = {ifbench_id: entry.check for ifbench_id, entry in _TABLE.items()}


def clean_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """IFBench's dense kwargs without nulls, integral floats as ints (``15.0 -> 15``)."""
    out: dict[str, Any] = {}
    for name, value in kwargs.items():
        if value is None:
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out[name] = value
    return out


def _unknown_id(instruction_id: Any, path: str) -> SpecError:
    import difflib

    close = difflib.get_close_matches(str(instruction_id), _TABLE, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return SpecError(f"unknown IFBench instruction id {instruction_id!r}{hint}", path)


def instruction_node(instruction_id: Any, kwargs: Any, where: str = "") -> CheckNode:
    """The check node for one IFBench instruction (dense or sparse kwargs).

    Raises:
        SpecError: unknown id (with a "did you mean"), kwargs missing or unexpected, or
            values the check's parameters reject; the path names the place (``where``).
    """
    entry = _TABLE.get(instruction_id) if isinstance(instruction_id, str) else None
    if entry is None:
        raise _unknown_id(instruction_id, where)
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, Mapping):
        raise SpecError(f"expected an object of kwargs, got {type(kwargs).__name__} {kwargs!r}", where)
    kw = clean_kwargs(kwargs)
    missing = [name for name in entry.accepts if name not in kw]
    if missing:
        raise SpecError(
            f"missing {missing} for {instruction_id!r} (the reference would pick a random value; adhere refuses)",
            where,
        )
    extra = sorted(set(kw) - set(entry.accepts))
    if extra:
        takes = ", ".join(entry.accepts) or "no kwargs"
        raise SpecError(f"unexpected kwarg(s) {extra} for {instruction_id!r} (it takes: {takes})", where)
    info = REGISTRY.get(entry.check)
    return CheckNode(info, info.parse_params(entry.build(kw), where), label=instruction_id)


def ifbench_spec(
    instruction_ids: Sequence[Any], kwargs: Sequence[Any] | None = None, *, loose: bool = True, where: str = ""
) -> Spec:
    """The spec judging one IFBench prompt: ``all`` over one ``loose`` node per instruction,
    whose first child is the strict verdict (the response as is), as for IFEval.

    ``where`` prefixes error paths (e.g. ``"key 12: "``).
    """
    if not isinstance(instruction_ids, Sequence) or isinstance(instruction_ids, str) or not instruction_ids:
        raise SpecError(
            f"expected a non-empty list of instruction ids, got {instruction_ids!r}", f"{where}instruction_id_list"
        )
    if kwargs is None:
        kwargs = [{}] * len(instruction_ids)
    if not isinstance(kwargs, Sequence) or isinstance(kwargs, str) or len(kwargs) != len(instruction_ids):
        size = len(kwargs) if isinstance(kwargs, Sequence) and not isinstance(kwargs, str) else type(kwargs).__name__
        raise SpecError(
            f"expected one kwargs object per instruction ({len(instruction_ids)}), got {size}", f"{where}kwargs"
        )
    variants = IFEVAL_VARIANTS if loose else ("as_is",)
    nodes: list[Node] = []
    for i, (instruction_id, kw) in enumerate(zip(instruction_ids, kwargs, strict=True)):
        if not isinstance(instruction_id, str) or instruction_id not in _TABLE:
            raise _unknown_id(instruction_id, f"{where}instruction_id_list[{i}]")
        check = instruction_node(instruction_id, kw, f"{where}kwargs[{i}]")
        nodes.append(LooseNode(check, variants, label=instruction_id))
    return Spec(AllNode(tuple(nodes), label="ifbench"))


class IFBenchSuite(IFEvalSuite):
    """The IFBench test set (300 prompts, 58 instruction ids), scored and summarised as IFEval.

    Dataset rows: ``{"key", "prompt", "instruction_id_list", "kwargs"}`` (IFBench's
    ``IFBench_test.jsonl``). Responses rows: ``{"prompt", "response"}`` (IFBench's format),
    or with a ``key``.
    """

    name: str = "ifbench"

    hf_dataset: str = HF_DATASET

    def build_spec(self, ids: Any, kwargs: Any, where: str) -> Spec:
        return ifbench_spec(ids, kwargs, where=where)


register_suite("ifbench", IFBenchSuite)
