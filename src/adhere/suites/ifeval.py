"""IFEval (Zhou et al. 2023): its 25 instruction ids mapped onto adhere's general checks.

Each IFEval instruction becomes one check with parameters translated from the row's
``kwargs`` (relations "less than N" / "at least N" become ``max = N - 1`` / ``min = N``).
Verdicts equal the reference's (upstream google-research code, with its later letter
fix), strict and loose, including its documented quirks:

* an empty or whitespace-only response (or loose variant) fails every instruction;
* loose mode passes an instruction when any of the 8 variants passes (as is, without
  the first and/or last line, and each of those without ``*``): the ``loose`` spec node;
* duplicate ids in one prompt are separate instructions (together they express ranges);
* ``keywords:letter_frequency`` with a letter outside a-z (``#``, ``!``) counts that
  character (upstream latest; lm-eval 0.4.13 swaps it for a random letter);
* language detection is langdetect with seed 0; when it cannot decide, the instruction
  counts as followed;
* keywords, forbidden words, section splitters and postscript markers are regular
  expressions, as in the reference.

Where the reference draws a **random** value because a kwarg is missing, empty or out of
range, adhere refuses with a :class:`SpecError` naming the place
(``key 1000: kwargs[1].num_words: missing ...``): a benchmark score must not depend on a
dice roll. Unknown ids get a "did you mean".

Result rows (one per prompt and response)::

    {"key", "prompt", "response",
     "instructions": [{"id", "strict": bool, "loose": bool, "reason"}],
     "verdict": {...}}

The verdict tree is lossless: its root is an ``all`` over the instructions (outcome =
prompt-level loose, with ``evidence.strict`` = prompt-level strict); each instruction is
a ``loose`` node labelled with the IFEval id whose **first child is the verdict on the
response as is, i.e. the strict verdict**. A prompt whose row cannot be turned into
checks is kept, with an unscorable verdict and ``strict``/``loose`` set to ``None``.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..checks.language import asks_language
from ..errors import DatasetError, SpecError, require
from ..registry import REGISTRY
from ..spec import IFEVAL_VARIANTS, AllNode, CheckNode, LooseNode, Node, Spec
from ..text.language import detect_many
from ..verdict import Verdict
from .base import Pair, Sample, register_suite
from .text import SCORE_CHUNK, TextSuite, gc_paused

__all__ = ["IFEVAL_CHECKS", "IFEvalItem", "IFEvalSuite", "ifeval_spec", "instruction_node"]

HF_DATASET = "google/IFEval"
_RELATIONS = ("less than", "at least")
_CONSTRAINED_OPTIONS = ["My answer is yes.", "My answer is no.", "My answer is maybe."]


class _Kwargs:
    """One instruction's kwargs, read with precise errors; None values count as absent."""

    def __init__(self, instruction_id: str, raw: Mapping[str, Any], where: str) -> None:
        self.id = instruction_id
        self.raw = {k: v for k, v in raw.items() if v is not None}
        self.where = where
        self.used: list[str] = []

    def path(self, name: str) -> str:
        return f"{self.where}.{name}"

    def get(self, name: str) -> Any:
        self.used.append(name)
        if name not in self.raw:
            raise SpecError(
                f"missing for {self.id!r} (the reference would pick a random value; adhere refuses)",
                self.path(name),
            )
        return self.raw[name]

    def fail(self, name: str, expected: str, value: Any) -> SpecError:
        return SpecError(f"expected {expected}, got {type(value).__name__} {value!r}", self.path(name))

    def count(self, name: str) -> int:
        value = self.get(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(name, "a non-negative integer", value)
        return value

    def text(self, name: str, *, strip: bool = False) -> str:
        value = self.get(name)
        if not isinstance(value, str):
            raise self.fail(name, "a string", value)
        if strip:
            value = value.strip()
        if not value:
            raise self.fail(name, "a non-empty string", value)
        return value

    def texts(self, name: str) -> list[str]:
        value = self.get(name)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise self.fail(name, "a non-empty list of non-empty strings", value)
        return value

    def relation(self, name: str) -> str:
        value = self.get(name)
        if value not in _RELATIONS:
            raise self.fail(name, "'less than' or 'at least'", value)
        return str(value)

    def bound(self, count: str, relation: str) -> dict[str, int]:
        """'at least N' -> min N; 'less than N' -> max N - 1."""
        n = self.count(count)
        if self.relation(relation) == "at least":
            return {"min": n}
        if n == 0:
            raise SpecError("'less than 0' can never be met", self.path(count))
        return {"max": n - 1}

    def letter(self, name: str) -> str:
        value = self.get(name)
        if not isinstance(value, str) or len(value) != 1 or not value.strip():
            raise self.fail(name, "a single visible character", value)
        return value.lower()

    def finish(self) -> None:
        extra = sorted(set(self.raw) - set(self.used))
        if extra:
            takes = ", ".join(sorted(set(self.used))) or "no kwargs"
            raise SpecError(f"unexpected kwarg(s) {extra} for {self.id!r} (it takes: {takes})", self.where)


def _paragraph_first_word(kw: _Kwargs) -> dict[str, Any]:
    paragraphs = kw.count("num_paragraphs")
    nth = kw.count("nth_paragraph")
    if not 1 <= nth <= paragraphs:
        raise SpecError(f"must be between 1 and num_paragraphs ({paragraphs}), got {nth}", kw.path("nth_paragraph"))
    return {"paragraphs": paragraphs, "nth": nth, "word": kw.text("first_word")}


def _exactly(kw: _Kwargs, name: str) -> dict[str, int]:
    n = kw.count(name)
    return {"min": n, "max": n}


_Translate = Callable[[_Kwargs], dict[str, Any]]

#: IFEval id -> (adhere check id, kwargs -> check parameters).
_TABLE: dict[str, tuple[str, _Translate]] = {
    "keywords:existence": ("keywords.include", lambda kw: {"keywords": kw.texts("keywords"), "regex": True}),
    "keywords:frequency": (
        "keywords.count",
        lambda kw: {"keyword": kw.text("keyword", strip=True), "regex": True, **kw.bound("frequency", "relation")},
    ),
    "keywords:forbidden_words": (
        "keywords.forbidden",
        lambda kw: {"words": kw.texts("forbidden_words"), "regex": True},
    ),
    "keywords:letter_frequency": (
        "keywords.letter_count",
        lambda kw: {"letter": kw.letter("letter"), **kw.bound("let_frequency", "let_relation")},
    ),
    "language:response_language": ("language.is", lambda kw: {"language": kw.text("language")}),
    "length_constraints:number_sentences": ("length.sentences", lambda kw: kw.bound("num_sentences", "relation")),
    "length_constraints:number_paragraphs": ("structure.paragraphs", lambda kw: _exactly(kw, "num_paragraphs")),
    "length_constraints:number_words": ("length.words", lambda kw: kw.bound("num_words", "relation")),
    "length_constraints:nth_paragraph_first_word": ("structure.paragraph_first_word", _paragraph_first_word),
    "detectable_content:number_placeholders": (
        "structure.placeholders",
        lambda kw: {"min": kw.count("num_placeholders")},
    ),
    "detectable_content:postscript": (
        "structure.postscript",
        lambda kw: {"marker": kw.text("postscript_marker", strip=True), "regex": True},
    ),
    "detectable_format:number_bullet_lists": ("structure.bullets", lambda kw: _exactly(kw, "num_bullets")),
    "detectable_format:constrained_response": ("format.choice", lambda kw: {"options": _CONSTRAINED_OPTIONS}),
    "detectable_format:number_highlighted_sections": (
        "format.highlights",
        lambda kw: {"min": kw.count("num_highlights")},
    ),
    "detectable_format:multiple_sections": (
        "structure.sections",
        lambda kw: {
            "splitter": kw.text("section_spliter", strip=True),
            "min": kw.count("num_sections"),
            "regex": True,
        },
    ),
    "detectable_format:json_format": ("format.json", lambda kw: {}),
    "detectable_format:title": ("format.title", lambda kw: {}),
    "combination:two_responses": ("structure.two_responses", lambda kw: {}),
    "combination:repeat_prompt": ("position.repeats_prompt", lambda kw: {"prompt": kw.text("prompt_to_repeat")}),
    "startend:end_checker": ("position.ends_with", lambda kw: {"phrase": kw.text("end_phrase", strip=True)}),
    "change_case:capital_word_frequency": (
        "case.capital_words",
        lambda kw: kw.bound("capital_frequency", "capital_relation"),
    ),
    "change_case:english_capital": ("case.uppercase", lambda kw: {"language": "en"}),
    "change_case:english_lowercase": ("case.lowercase", lambda kw: {"language": "en"}),
    "punctuation:no_comma": ("punctuation.no_comma", lambda kw: {}),
    "startend:quotation": ("position.quoted", lambda kw: {}),
}

#: IFEval instruction id -> the adhere check that implements it.
IFEVAL_CHECKS: Mapping[str, str] = {ifeval_id: check_id for ifeval_id, (check_id, _) in _TABLE.items()}


def _unknown_id(instruction_id: Any, path: str) -> SpecError:
    close = difflib.get_close_matches(str(instruction_id), _TABLE, n=2, cutoff=0.8)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return SpecError(f"unknown IFEval instruction id {instruction_id!r}{hint}", path)


def instruction_node(instruction_id: Any, kwargs: Any, where: str = "") -> CheckNode:
    """The check node for one IFEval instruction.

    Raises:
        SpecError: unknown id (with a "did you mean"), or kwargs missing, mistyped, out
            of range or unexpected; the error's path names the place (``where``).
    """
    entry = _TABLE.get(instruction_id) if isinstance(instruction_id, str) else None
    if entry is None:
        raise _unknown_id(instruction_id, where)
    check_id, translate = entry
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, Mapping):
        raise SpecError(f"expected an object of kwargs, got {type(kwargs).__name__} {kwargs!r}", where)
    kw = _Kwargs(instruction_id, kwargs, where)
    params = translate(kw)
    kw.finish()
    info = REGISTRY.get(check_id)
    return CheckNode(info, info.parse_params(params, where), label=instruction_id)


def ifeval_spec(
    instruction_ids: Sequence[Any], kwargs: Sequence[Any] | None = None, *, loose: bool = True, where: str = ""
) -> Spec:
    """The spec judging one IFEval prompt: ``all`` over one ``loose`` node per instruction.

    With ``loose=False`` each instruction is judged on the response as is only (still
    failing empty responses, as the reference's strict mode does). ``where`` prefixes
    error paths (e.g. ``"key 1000: "``).
    """
    prefix = where
    if not isinstance(instruction_ids, Sequence) or isinstance(instruction_ids, str) or not instruction_ids:
        raise SpecError(
            f"expected a non-empty list of instruction ids, got {instruction_ids!r}", f"{prefix}instruction_id_list"
        )
    if kwargs is None:
        kwargs = [{}] * len(instruction_ids)
    if not isinstance(kwargs, Sequence) or isinstance(kwargs, str) or len(kwargs) != len(instruction_ids):
        size = len(kwargs) if isinstance(kwargs, Sequence) and not isinstance(kwargs, str) else type(kwargs).__name__
        raise SpecError(
            f"expected one kwargs object per instruction ({len(instruction_ids)}), got {size}", f"{prefix}kwargs"
        )
    variants = IFEVAL_VARIANTS if loose else ("as_is",)
    nodes: list[Node] = []
    for i, (instruction_id, kw) in enumerate(zip(instruction_ids, kwargs, strict=True)):
        if not isinstance(instruction_id, str) or instruction_id not in _TABLE:
            raise _unknown_id(instruction_id, f"{prefix}instruction_id_list[{i}]")
        check = instruction_node(instruction_id, kw, f"{prefix}kwargs[{i}]")
        nodes.append(LooseNode(check, variants, label=str(instruction_id)))
    return Spec(AllNode(tuple(nodes), label="ifeval"))


@dataclass(frozen=True)
class IFEvalItem:
    """A sample's payload: its instruction ids and spec, or why they could not be built."""

    instruction_ids: tuple[str, ...]
    spec: Spec | None
    error: str | None = None
    #: The checks judged on the response as is that may detect its language.
    language_checks: tuple[CheckNode, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        nodes = () if self.spec is None else self.spec.root.walk()
        checks = tuple(
            node.child
            for node in nodes
            if isinstance(node, LooseNode)
            and isinstance(node.child, CheckNode)
            and (node.child.info.id == "language.is" or getattr(node.child.params, "language", None) is not None)
        )
        object.__setattr__(self, "language_checks", checks)


def _instruction_rows(ids: Sequence[str], verdict: Verdict) -> tuple[list[dict[str, Any]], bool]:
    rows: list[dict[str, Any]] = []
    all_strict = True
    for instruction_id, node in zip(ids, verdict.children, strict=True):
        first = node.children[0] if node.children else node
        outcome = first.outcome
        strict: bool | None = None if outcome == "unscorable" else outcome == "pass"
        outcome = node.outcome
        loose: bool | None = None if outcome == "unscorable" else outcome == "pass"
        reason = "the response is empty" if first.check == "loose.variant" else first.reason
        if loose and not strict:
            reason = f"{reason}; passes loosely ({node.evidence.get('variant')})"
        all_strict = all_strict and bool(strict)
        rows.append({"id": instruction_id, "strict": strict, "loose": loose, "reason": reason})
    return rows, all_strict


class IFEvalSuite(TextSuite):
    """The IFEval benchmark (see the module docstring for rows, quirks and refusals)."""

    name: str = "ifeval"

    # -- loading -----------------------------------------------------------------------
    hf_dataset: str = HF_DATASET

    @property
    def default_source(self) -> str:
        return self.hf_dataset

    def default_rows(self) -> Iterable[tuple[int, Any]]:
        """Rows of the suite's Hugging Face dataset (``google/IFEval``; needs ``adhere[hf]``)."""
        datasets: Any = require("datasets", "hf")
        try:
            ds = datasets.load_dataset(self.hf_dataset, split="train")
        except Exception as exc:  # network, hub or cache trouble: say what failed
            raise DatasetError(
                f"cannot load the Hugging Face dataset: {type(exc).__name__}: {exc}", self.hf_dataset
            ) from exc
        return ((i, dict(row)) for i, row in enumerate(ds, start=1))

    def build_spec(self, ids: Any, kwargs: Any, where: str) -> Spec:
        """The spec of one row (IFBench overrides this with its own mapping)."""
        return ifeval_spec(ids, kwargs, where=where)

    def sample_from_row(self, row: Mapping[str, Any], source: str, line: int) -> Sample:
        key = self._row_key(row, source, line)
        if key is None:
            raise DatasetError("the row needs a 'key'", source, line)
        prompt = row.get("prompt")
        if not isinstance(prompt, str):
            raise DatasetError(f"key {key!r}: 'prompt' must be a string, got {type(prompt).__name__}", source, line)
        raw_ids = row.get("instruction_id_list")
        ids = tuple(str(i) for i in raw_ids) if isinstance(raw_ids, list) else ()
        try:
            spec = self.build_spec(raw_ids, row.get("kwargs"), f"key {key}: ")
        except SpecError as exc:
            self.problems.append(DatasetError(str(exc), source, line))
            return Sample(key, prompt, IFEvalItem(ids, None, str(exc)), {"line": line})
        return Sample(key, prompt, IFEvalItem(ids, spec), {"line": line})

    # -- scoring -------------------------------------------------------------------------
    def score(self, pairs: Sequence[Pair]) -> Iterator[dict[str, Any]]:
        """One result row per pair, in order.

        Before each chunk of pairs is judged, the languages its checks will ask for on
        the responses as they are (language instructions, and case instructions whose
        case test passes) are detected together; the checks then find them memoised.
        Same verdicts, less time: one detection alone costs a numpy call per step of
        langdetect's random walk, many side by side share each call.
        """
        it = iter(pairs)
        while chunk := list(itertools.islice(it, SCORE_CHUNK)):
            with gc_paused():
                texts = [text for pair in chunk if (text := self._asks_language(pair)) is not None]
                if texts:
                    detect_many(texts)
                rows = [self.score_pair(pair) for pair in chunk]
            yield from rows

    @staticmethod
    def _asks_language(pair: Pair) -> str | None:
        """The response text, if judging it as is will detect its language."""
        item = pair.sample.payload
        if not isinstance(item, IFEvalItem) or item.spec is None or pair.response is None:
            return None
        if not item.language_checks:
            return None
        text = pair.response.text
        if not text.strip():
            return None  # an empty response fails without any check
        if any(asks_language(node.info.id, node.params, text) for node in item.language_checks):
            return text
        return None

    def score_pair(self, pair: Pair) -> dict[str, Any]:
        row = self.base_row(pair)
        item = pair.sample.payload
        if not isinstance(item, IFEvalItem) or item.spec is None:
            error = item.error if isinstance(item, IFEvalItem) else "the sample is not an IFEval item"
            ids = item.instruction_ids if isinstance(item, IFEvalItem) else ()
            row["instructions"] = [{"id": i, "strict": None, "loose": None, "reason": error} for i in ids]
            row["verdict"] = Verdict.of("all", None, f"cannot score: {error}", {"label": "ifeval"}).to_dict()
            return row
        view = self.view(pair)
        if view is None:
            kids = tuple(Verdict.of("loose", False, "no response", {"label": i}) for i in item.instruction_ids)
            verdict = Verdict.of("all", False, "no response", {"label": "ifeval", "strict": False}, children=kids)
            row["instructions"] = [
                {"id": i, "strict": False, "loose": False, "reason": "no response"} for i in item.instruction_ids
            ]
            row["verdict"] = verdict.to_dict()
            return row
        verdict = item.spec.evaluate(view)
        instructions, strict = _instruction_rows(item.instruction_ids, verdict)
        tree = verdict.to_dict()
        tree["evidence"] = {**tree.get("evidence", {}), "strict": strict}
        row["instructions"] = instructions
        row["verdict"] = tree
        return row

    # -- summary -------------------------------------------------------------------------
    def summarize(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """IFEval's four accuracies (prompt/instruction level, strict/loose) and per-id ones.

        Rows that could not be scored (``strict`` is None somewhere) are left out of every
        accuracy and counted under ``unscorable``; accuracies of nothing are None, never 0.
        """
        judged = [
            r
            for r in rows
            if all(i.get("strict") is not None and i.get("loose") is not None for i in r["instructions"])
        ]
        per: dict[str, dict[str, int]] = {}
        prompt_strict = prompt_loose = inst = inst_strict = inst_loose = 0
        for r in judged:
            items = r["instructions"]
            prompt_strict += all(i["strict"] for i in items)
            prompt_loose += all(i["loose"] for i in items)
            for i in items:
                inst += 1
                inst_strict += bool(i["strict"])
                inst_loose += bool(i["loose"])
                entry = per.setdefault(i["id"], {"n": 0, "strict": 0, "loose": 0})
                entry["n"] += 1
                entry["strict"] += bool(i["strict"])
                entry["loose"] += bool(i["loose"])
        n = len(judged)

        def rate(part: int, whole: int) -> float | None:
            return part / whole if whole else None

        return {
            "n": n,
            "prompt_strict": rate(prompt_strict, n),
            "inst_strict": rate(inst_strict, inst),
            "prompt_loose": rate(prompt_loose, n),
            "inst_loose": rate(inst_loose, inst),
            "unscorable": len(rows) - n,
            "per_instruction": {
                k: {"n": v["n"], "strict": rate(v["strict"], v["n"]), "loose": rate(v["loose"], v["n"])}
                for k, v in sorted(per.items())
            },
        }


register_suite("ifeval", IFEvalSuite)
