"""Answer-label adherence (the Atomic Instruction Gap): any multiple-choice set, relabelled.

A model that knows the answer may still fail to answer *with the label asked for*. This
suite relabels a multiple-choice dataset's options in one scheme — alphabetic (A, B, ...),
numeric (1, 2, ...) or Roman (I, II, ...) — with identical meaning, builds the prompt in one
of four paradigms, and scores the answer's label:

* ``explicit``: the options and an instruction to answer with the label only;
* ``none``: the options, no instruction about the format;
* ``content_removed``: the labels without the options' text, with the instruction (accuracy
  is then compared with chance, 1/number of options, reported as ``chance``);
* ``three_shot``: three solved items of the same set (the next three, cyclically) shown
  first, each ending in ``Answer: <label>``, then the question.

**Data** (JSONL): ``{"id", "question", "options": [...], "answer"}`` where ``answer`` is
the 0-based index of the correct option, its text, or its label in the data's own letters
(``"C"``). **Responses**: any :class:`TextSuite` row (``id`` + ``response``).

**Result rows**: ``{"key", "prompt", "response", "scheme", "paradigm", "answer", "labels",
"strict", "lenient", "fidelity", "verdict"}``; the verdict is ``label.match`` (strict), the
paper's score. **Summary**: ``strict``, ``lenient`` and ``fidelity`` accuracies, and
``chance``.

Registered as ``labels`` (alphabetic, explicit) and ``labels-<scheme>-<paradigm>`` for
every combination (``adhere eval labels-roman-three_shot --data mc.jsonl ...``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..checks.labels import SCHEMES, Scheme, labels_for, lenient_form
from ..errors import DatasetError
from ..spec import Spec
from ..verdict import Verdict
from .base import Pair, Sample, register_suite
from .text import TextSuite

__all__ = ["PARADIGMS", "LabelSuite", "MCItem", "Paradigm", "build_prompt", "parse_mc_row", "relabel"]

Paradigm = Literal["explicit", "none", "content_removed", "three_shot"]
PARADIGMS: tuple[Paradigm, ...] = ("explicit", "none", "content_removed", "three_shot")


@dataclass(frozen=True)
class MCItem:
    """A multiple-choice item: question, option texts, index of the correct one."""

    key: Any
    question: str
    options: tuple[str, ...]
    answer: int


def relabel(item: MCItem, scheme: Scheme) -> tuple[list[str], str]:
    """The item's labels in ``scheme`` and the correct one: the transform that turns any
    multiple-choice set into an alphabetic, numeric or Roman one."""
    labels = labels_for(len(item.options), scheme)
    return labels, labels[item.answer]


def _instruction(labels: Sequence[str]) -> str:
    return f"Answer with the label of the correct option only ({', '.join(labels)}), and nothing else."


def _block(item: MCItem, labels: Sequence[str], with_text: bool = True) -> str:
    lines = [item.question.strip()]
    for lab, text in zip(labels, item.options, strict=True):
        lines.append(f"{lab}. {text}" if with_text else f"{lab}.")
    return "\n".join(lines)


def build_prompt(item: MCItem, scheme: Scheme, paradigm: Paradigm, shots: Sequence[MCItem] = ()) -> str:
    """The prompt for ``item`` in one labelling scheme and paradigm (see the module docstring)."""
    labels, _ = relabel(item, scheme)
    if paradigm == "explicit":
        return f"{_block(item, labels)}\n\n{_instruction(labels)}"
    if paradigm == "none":
        return _block(item, labels)
    if paradigm == "content_removed":
        return f"{_block(item, labels, with_text=False)}\n\n{_instruction(labels)}"
    demos = []
    for shot in shots:
        shot_labels, shot_answer = relabel(shot, scheme)
        demos.append(f"{_block(shot, shot_labels)}\nAnswer: {shot_answer}")
    return "\n\n".join([*demos, f"{_block(item, labels)}\nAnswer:"])


def parse_mc_row(row: Mapping[str, Any], source: str, line: int) -> MCItem:
    """One multiple-choice item from a data row; :class:`DatasetError` when unusable."""
    key = row.get("id", row.get("key"))
    if isinstance(key, bool) or not isinstance(key, (int, str)):
        raise DatasetError("the row needs an 'id' (integer or string)", source, line)
    question = row.get("question")
    options = row.get("options")
    if not isinstance(question, str):
        raise DatasetError("'question' must be a string", source, line)
    if not isinstance(options, list) or len(options) < 2 or not all(isinstance(o, str) for o in options):
        raise DatasetError("'options' must be a list of at least two strings", source, line)
    raw = row.get("answer")
    if isinstance(raw, int) and not isinstance(raw, bool):
        index = raw
    elif isinstance(raw, str) and raw in options:
        index = options.index(raw)
    elif isinstance(raw, str) and raw.strip().upper() in labels_for(len(options), "alpha"):
        index = labels_for(len(options), "alpha").index(raw.strip().upper())
    else:
        raise DatasetError(f"'answer' must be an option index, text or letter, got {raw!r}", source, line)
    if not 0 <= index < len(options):
        raise DatasetError(f"'answer' index {index} is out of range for {len(options)} options", source, line)
    return MCItem(key, question, tuple(options), index)


class LabelSuite(TextSuite):
    """Answer-label adherence on a multiple-choice dataset (see the module docstring)."""

    def __init__(self, scheme: Scheme = "alpha", paradigm: Paradigm = "explicit") -> None:
        super().__init__()
        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
        if paradigm not in PARADIGMS:
            raise ValueError(f"paradigm must be one of {PARADIGMS}, got {paradigm!r}")
        self.scheme: Scheme = scheme
        self.paradigm: Paradigm = paradigm
        self.name = "labels" if (scheme, paradigm) == ("alpha", "explicit") else f"labels-{scheme}-{paradigm}"

    def load(self, data: str | None = None) -> list[Sample]:
        items: list[MCItem] = []
        self.problems = []
        if data is None:
            raise DatasetError(f"suite {self.name!r} needs a multiple-choice dataset: pass --data FILE.jsonl")
        source = str(data)
        from pathlib import Path

        for line, row in self._read_rows(Path(data)):
            try:
                if not isinstance(row, Mapping):
                    raise DatasetError(f"expected a JSON object, got {type(row).__name__}", source, line)
                items.append(parse_mc_row(row, source, line))
            except DatasetError as exc:
                self.problems.append(exc)
        samples = []
        for i, item in enumerate(items):
            shots: list[MCItem] = []
            if self.paradigm == "three_shot":
                shots = [items[(i + k) % len(items)] for k in range(1, min(3, len(items) - 1) + 1)]
            labels, answer = relabel(item, self.scheme)
            prompt = build_prompt(item, self.scheme, self.paradigm, shots)
            spec = Spec.parse({"check": "label.match", "params": {"answer": answer}, "label": "strict"})
            samples.append(Sample(item.key, prompt, spec, {"labels": labels, "answer": answer}))
        return samples

    def score_pair(self, pair: Pair) -> dict[str, Any]:
        row = self.base_row(pair)
        labels: list[str] = list(pair.sample.meta["labels"])
        answer: str = pair.sample.meta["answer"]
        row.update({"scheme": self.scheme, "paradigm": self.paradigm, "answer": answer, "labels": labels})
        spec = pair.sample.payload
        assert isinstance(spec, Spec)
        if pair.response is None:
            verdict = Verdict.of("suite", False, "no response")
            row.update({"strict": False, "lenient": False, "fidelity": False})
        else:
            text = pair.response.text
            verdict = spec.evaluate(text)
            lenient = lenient_form(text)
            row.update(
                {
                    "strict": verdict.passed,
                    "lenient": lenient == answer.upper(),
                    "fidelity": lenient in {lab.upper() for lab in labels},
                }
            )
        row["verdict"] = verdict.to_dict()
        return row

    def summarize(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        n = len(rows)

        def rate(field: str) -> float | None:
            return sum(bool(r.get(field)) for r in rows) / n if n else None

        chance = sum(1 / len(r.get("labels") or [1]) for r in rows) / n if n else None
        return {
            "n": n,
            "scheme": self.scheme,
            "paradigm": self.paradigm,
            "strict": rate("strict"),
            "lenient": rate("lenient"),
            "fidelity": rate("fidelity"),
            "chance": chance,
        }


def _factory(scheme: Scheme, paradigm: Paradigm) -> Any:
    return lambda: LabelSuite(scheme, paradigm)


register_suite("labels", LabelSuite)
for _scheme in SCHEMES:
    for _paradigm in PARADIGMS:
        register_suite(f"labels-{_scheme}-{_paradigm}", _factory(_scheme, _paradigm))
