"""MulDimIF (Ye et al. 2025, arXiv:2505.07591): multi-dimensional constraints, read from their sentences.

Each item has a single user turn and 1–4+ constraints ``[category, subcategory,
sentence]``. The sentences are the only statement of the parameters, so each is read by
:mod:`adhere.suites._muldimif_parse` into a spec over adhere's general checks; a sentence
that cannot be read soundly becomes an **unscorable** constraint whose reason quotes the
sentence (never a guess, never a silent 0).

Every item's spec strips reasoning first, explicitly: ``{"transform": "strip_think",
"spec": {"all": [constraint, ...]}}`` (everything up to the last ``</think>`` is dropped,
as the paper does for reasoning models; a response without it is unchanged). Pass
``MulDimIFSuite(strip_think=False)`` to judge raw text.

**Data**: the benchmark's ``test.json`` (a JSON list) or the same objects as JSONL.
**Responses**: JSONL rows ``{"id" or "key", "response"}`` (any :class:`TextSuite` shape),
or the reference's own output rows (the item with the model's answer appended to
``conversations`` as the last, ``assistant`` message).

**Result rows**::

    {"key", "prompt", "response", "constraint_pattern", "difficulty",
     "constraints": [{"category", "subcategory", "family", "sentence", "outcome", "reason"}],
     "verdict": {...}}

**Summary** (the reference's metrics; unscorable constraints are left out of every
denominator and counted apart): ``overall`` = share of items whose constraints all hold
(the headline), ``macro`` = mean per-item share of constraints met, ``micro`` = share of all
constraints met; each also per ``pattern`` (Example / Listing / Incorporation) and per
``level`` (Level 1–4); ``category``: per item and first-level category (Content, Format,
Language, Length), whether all its constraints of that category hold; ``subcategory``:
share of constraints met per second-level family (``Length_Words``, ...). ``parsed`` reports
how many constraints were read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DatasetError
from ..spec import AllNode, Node, Spec, TransformNode, _combine_all, parse_node
from ..text.transforms import TRANSFORMS
from ..text.view import TextView
from ..verdict import Verdict
from ._muldimif_parse import Parsed, parse_constraint
from .base import Pair, ResponseRow, Sample, register_suite
from .text import TextSuite

__all__ = ["MulDimIFItem", "MulDimIFSuite", "item_spec", "judge", "muldimif_summary"]


def _unread_verdict(c: Constraint) -> Verdict:
    why = c.parsed.reason.removeprefix("not parsed: ")
    return Verdict.of("muldimif.unread", None, f"constraint not read ({why}): {c.sentence!r}", {"sentence": c.sentence})


@dataclass(frozen=True)
class Constraint:
    category: str
    subcategory: str
    sentence: str
    parsed: Parsed


@dataclass(frozen=True)
class MulDimIFItem:
    """One benchmark item: its constraints (each with its reading), pattern and level."""

    constraints: tuple[Constraint, ...]
    pattern: str
    difficulty: str


def _constraint_node(c: Constraint, index: int) -> Node:
    assert c.parsed.spec is not None
    raw = dict(c.parsed.spec)
    raw["label"] = f"{index}: {c.category}/{c.subcategory}"
    return parse_node(raw, f"constraints[{index}]")


def item_spec(constraints: Sequence[Constraint], strip_think: bool = True) -> Spec | None:
    """The spec of the constraints that were read, after stripping reasoning (when asked);
    None when none was read. Unread constraints are not spec nodes: :func:`judge` adds
    them to the verdict as unscorable leaves."""
    nodes = tuple(_constraint_node(c, i) for i, c in enumerate(constraints) if c.parsed.spec is not None)
    if not nodes:
        return None
    body: Node = AllNode(nodes)
    if strip_think:
        body = TransformNode("strip_think", TRANSFORMS["strip_think"], body)
    return Spec(body)


def judge(constraints: Sequence[Constraint], response: TextView | str, strip_think: bool = True) -> Verdict:
    """The verdict tree of one response: (``transform`` →) ``all`` over every constraint in
    order, an unread one as an unscorable leaf quoting its sentence."""
    spec = item_spec(constraints, strip_think)
    read: list[Verdict] = []
    evaluated: Verdict | None = None
    if spec is not None:
        evaluated = spec.evaluate(response)
        node = evaluated.children[0] if strip_think else evaluated
        read = list(node.children)
    it = iter(read)
    kids = tuple(next(it) if c.parsed.spec is not None else _unread_verdict(c) for c in constraints)
    ok, reason = _combine_all(kids)
    scores = [k.score for k in kids if k.score is not None]
    score = None if ok is None else (1.0 if ok else sum(scores) / len(scores))
    root = Verdict.of("all", ok, reason, score=score, children=kids)
    if not strip_think:
        return root
    return Verdict.of(
        "transform",
        ok,
        f"after strip_think: {reason}",
        {"transform": "strip_think"},
        score=score,
        children=(root,),
    )


def _read_constraints(raw: Any, source: str, line: int) -> tuple[Constraint, ...]:
    if not isinstance(raw, list) or not raw:
        raise DatasetError("'constraints' must be a non-empty list of [category, subcategory, sentence]", source, line)
    out = []
    for i, c in enumerate(raw):
        if not (isinstance(c, list) and len(c) == 3 and all(isinstance(x, str) for x in c)):
            raise DatasetError(f"constraint {i} must be [category, subcategory, sentence], got {c!r}", source, line)
        out.append(Constraint(c[0], c[1], c[2], parse_constraint(c[0], c[1], c[2])))
    return tuple(out)


def _first_user_message(conversations: Any, source: str, line: int) -> str:
    if not isinstance(conversations, list):
        raise DatasetError("'conversations' must be a list of {role, content}", source, line)
    for m in conversations:
        if isinstance(m, Mapping) and m.get("role") == "user" and isinstance(m.get("content"), str):
            return str(m["content"])
    raise DatasetError("no user message in 'conversations'", source, line)


class MulDimIFSuite(TextSuite):
    """The MulDimIF suite (see the module docstring)."""

    name = "muldimif"

    def __init__(self, strip_think: bool = True) -> None:
        super().__init__()
        self.strip_think = strip_think

    # -- data --------------------------------------------------------------------------------
    def _read_rows(self, path: Path) -> list[tuple[int, Any]]:
        """A JSON list (the benchmark's ``test.json``: rows are numbered from 1), else JSONL."""
        try:
            with path.open("rb") as fh:
                head = fh.read(64).lstrip()
        except OSError as exc:
            raise DatasetError(f"cannot read the dataset: {exc.strerror or exc}", str(path)) from None
        if not head.startswith(b"["):
            return super()._read_rows(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise DatasetError(f"not valid JSON: {exc}", str(path)) from None
        if not isinstance(data, list):
            raise DatasetError("expected a JSON list of items", str(path))
        return list(enumerate(data, start=1))

    def sample_from_row(self, row: Mapping[str, Any], source: str, line: int) -> Sample:
        key = self._row_key(row, source, line)
        if key is None:
            raise DatasetError("the item needs an 'id'", source, line)
        prompt = _first_user_message(row.get("conversations"), source, line)
        constraints = _read_constraints(row.get("constraints"), source, line)
        pattern = str(row.get("constraint_pattern", ""))
        difficulty = str(row.get("difficulty", ""))
        item = MulDimIFItem(constraints, pattern, difficulty)
        return Sample(key, prompt, item, {"constraint_pattern": pattern, "difficulty": difficulty})

    # -- responses -----------------------------------------------------------------------------
    def parse_response(self, row: Mapping[str, Any], line: int) -> ResponseRow:
        """Any :class:`TextSuite` row, or a reference output row (the answer is the last
        ``assistant`` message of ``conversations``)."""
        conv = row.get("conversations") if isinstance(row, Mapping) else None
        if isinstance(conv, list) and not any(f in row for f in ("response", "completion", "output", "text")):
            last = conv[-1] if conv else None
            if not (
                isinstance(last, Mapping) and last.get("role") == "assistant" and isinstance(last.get("content"), str)
            ):
                raise DatasetError(
                    "the last message of 'conversations' is not the assistant's answer", "responses", line
                )
            key = self._row_key(row, "responses", line)
            if key is None:
                raise DatasetError("the row needs an 'id'", "responses", line)
            return ResponseRow(text=str(last["content"]), key=key, line=line, raw=row)
        return super().parse_response(row, line)

    # -- scoring ---------------------------------------------------------------------------------
    def score_pair(self, pair: Pair) -> dict[str, Any]:
        row = self.base_row(pair)
        item = pair.sample.payload
        assert isinstance(item, MulDimIFItem)
        row["constraint_pattern"] = item.pattern
        row["difficulty"] = item.difficulty
        view = self.view(pair)
        if view is None:
            kids = tuple(Verdict.of("muldimif.constraint", False, "no response") for _ in item.constraints)
            verdict = Verdict.of("all", False, "no response", children=kids)
        else:
            verdict = judge(item.constraints, view, self.strip_think)
        outcomes = _constraint_verdicts(verdict, len(item.constraints))
        row["constraints"] = [
            {
                "category": c.category,
                "subcategory": c.subcategory,
                "family": c.parsed.family,
                "sentence": c.sentence,
                "outcome": v.outcome,
                "reason": v.reason,
            }
            for c, v in zip(item.constraints, outcomes, strict=True)
        ]
        row["verdict"] = verdict.to_dict()
        return row

    def summarize(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return muldimif_summary(rows)


def _constraint_verdicts(verdict: Verdict, n: int) -> tuple[Verdict, ...]:
    """The per-constraint verdicts under the (optional) transform and the ``all``."""
    node = verdict
    if node.check == "transform" and node.children:
        node = node.children[0]
    if node.check == "all" and len(node.children) == n:
        return node.children
    return tuple(node for _ in range(n))


# -- metrics ---------------------------------------------------------------------------------------


def _ratio(num: float, den: int) -> float | None:
    return num / den if den else None


class _Acc:
    """Overall / macro / micro accumulators for one group of items."""

    def __init__(self) -> None:
        self.items = 0
        self.items_all = 0
        self.macro = 0.0
        self.passed = 0
        self.judged = 0
        self.unscorable_items = 0

    def add(self, outcomes: list[str]) -> None:
        judged = [o for o in outcomes if o != "unscorable"]
        ok = sum(o == "pass" for o in judged)
        self.passed += ok
        self.judged += len(judged)
        if any(o == "fail" for o in judged):
            self.items += 1
            self.macro += ok / len(judged)
        elif len(judged) == len(outcomes) and judged:
            self.items += 1
            self.items_all += 1
            self.macro += 1.0
        else:
            self.unscorable_items += 1

    def result(self) -> dict[str, Any]:
        return {
            "n": self.items,
            "overall": _ratio(self.items_all, self.items),
            "macro": _ratio(self.macro, self.items),
            "micro": _ratio(self.passed, self.judged),
            "constraints": self.judged,
            "unscorable_items": self.unscorable_items,
        }


def muldimif_summary(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The reference's scores from result rows (see the module docstring).

    An item with an unscorable constraint and no failure cannot be decided: it is left out
    of ``overall``/``macro`` and counted in ``unscorable_items``; one that fails another
    constraint is decided (it fails), its unscorable constraints left out of ``macro``.
    """
    total = _Acc()
    by_pattern: dict[str, _Acc] = defaultdict(_Acc)
    by_level: dict[str, _Acc] = defaultdict(_Acc)
    cat_num: dict[str, int] = defaultdict(int)
    cat_den: dict[str, int] = defaultdict(int)
    sub_num: dict[str, int] = defaultdict(int)
    sub_den: dict[str, int] = defaultdict(int)
    read = unread = 0
    n = 0
    for row in rows:
        n += 1
        cons = row.get("constraints") or []
        outcomes = [str(c.get("outcome")) for c in cons]
        total.add(outcomes)
        by_pattern[str(row.get("constraint_pattern", ""))].add(outcomes)
        by_level[str(row.get("difficulty", ""))].add(outcomes)
        per_cat: dict[str, list[str]] = defaultdict(list)
        for c, o in zip(cons, outcomes, strict=True):
            family = c.get("family") or f"{c.get('category')}_{c.get('subcategory')}"
            if c.get("reason", "").startswith("constraint not read"):
                unread += 1
            else:
                read += 1
            per_cat[str(family).split("_")[0]].append(o)
            if o != "unscorable":
                sub_den[family] += 1
                sub_num[family] += o == "pass"
        for cat, outs in per_cat.items():
            judged = [o for o in outs if o != "unscorable"]
            if any(o == "fail" for o in judged) or (judged and len(judged) == len(outs)):
                cat_den[cat] += 1
                cat_num[cat] += all(o == "pass" for o in judged)
    head = total.result()
    return {
        "n": n,
        "overall": head["overall"],
        "macro": head["macro"],
        "micro": head["micro"],
        "judged_items": head["n"],
        "unscorable_items": head["unscorable_items"],
        "constraints": {"read": read, "unread": unread, "judged": head["constraints"]},
        "pattern": {k: v.result() for k, v in sorted(by_pattern.items())},
        "level": {k: v.result() for k, v in sorted(by_level.items())},
        "category": {k: _ratio(cat_num[k], cat_den[k]) for k in sorted(cat_den)},
        "subcategory": {k: _ratio(sub_num[k], sub_den[k]) for k in sorted(sub_den)},
    }


register_suite("muldimif", MulDimIFSuite)
