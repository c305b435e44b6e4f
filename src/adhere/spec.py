"""Specs: trees that compose checks.

A spec is written as JSON or YAML and validated as a whole by :meth:`Spec.parse`
before any response is read. Node forms (every node may also carry ``"label"``)::

    {"check": "length.words", "params": {"min": 300}}
    {"all": [spec, ...]}            every child passes
    {"any": [spec, ...]}            at least one child passes
    {"not": spec}                   pass <-> fail (unscorable stays unscorable)
    {"weighted": [{"weight": 2, "spec": spec}, ...], "pass_at": 1.0}
    {"when": spec, "then": spec, "otherwise": spec}        otherwise defaults to pass
    {"each": "paragraphs", "spec": spec, "min": 3, "max": null, "of": 5,
     "from": 2, "to": -1, "if_none": "pass"}
                                    count of items that pass; all items by default;
                                    "of": the number of items required
    {"within": "table_cells", "spec": spec, "if_none": "fail"}
                                    spec judged on the items joined into one text
    {"sequence": [spec, spec, ...], "over": "sections", "rest": "forbid", "chain": false}
                                    item i must pass spec i, in order
    {"turn": "last" | 3 | -2, "spec": spec}
                                    spec judged on one assistant turn of the dialogue
    {"loose": spec, "variants": ["as_is", "no_stars", ...]}
                                    IFEval's response variants; pass if one passes
    {"transform": "strip_think", "spec": spec}

Item kinds for ``each``/``within``/``sequence`` are listed in :mod:`adhere.items`
(paragraphs, sentences, sections, list items, table cells, code blocks, turns, ...).
Three outcomes propagate honestly: a composite is unscorable when its answer
depends on a child we could not judge. ``docs/specs.md`` shows every form with a tested
example.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpecError
from .items import derive_view, item_views, validate_kind
from .registry import REGISTRY, CheckInfo, Params
from .subjects import Response, conversation_of
from .text.transforms import TRANSFORMS
from .text.view import TextView
from .verdict import Verdict

__all__ = ["IFEVAL_VARIANTS", "Node", "Spec", "parse_node"]


# -- IFEval's loose variants ---------------------------------------------------------------


def _variant_texts(text: str) -> dict[str, str]:
    # IFEval joins ``text.split("\n")`` without its first and/or last line: the same
    # as cutting at the first and last newline (nothing is left without one).
    first, last = text.find("\n"), text.rfind("\n")
    no_first = text[first + 1 :].strip() if first >= 0 else ""
    no_last = text[:last].strip() if last >= 0 else ""
    no_both = text[first + 1 : last].strip() if first < last else ""
    return {
        "as_is": text,
        "no_stars": text.replace("*", ""),
        "no_first_line": no_first,
        "no_last_line": no_last,
        "no_first_last_line": no_both,
        "no_stars_no_first_line": no_first.replace("*", ""),
        "no_stars_no_last_line": no_last.replace("*", ""),
        "no_stars_no_first_last_line": no_both.replace("*", ""),
    }


IFEVAL_VARIANTS: tuple[str, ...] = tuple(_variant_texts(""))


def variant_view(view: TextView, name: str) -> TextView:
    """The memoised view of one loose variant of ``view`` (shared by all checks)."""
    if name == "as_is":
        return view
    text = view.memo("loose.variants", lambda: _variant_texts(view.text))[name]
    if text == view.text:  # e.g. no '*' to remove: judge the response's own view
        return view
    # Keyed by text: variants that come out equal share one view and its analyses.
    return view.memo(("loose.view", text), lambda: derive_view(view, text))


# -- nodes ---------------------------------------------------------------------------------------


class Node:
    """A spec node. ``evaluate`` never raises on any text."""

    label: str | None = None

    def evaluate(self, view: TextView) -> Verdict:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def walk(self) -> Iterator[Node]:
        yield self

    def _labelled(self, d: dict[str, Any]) -> dict[str, Any]:
        if self.label is not None:
            d["label"] = self.label
        return d

    def _evidence(self, **values: Any) -> dict[str, Any]:
        if self.label is not None:
            values["label"] = self.label
        return values


@dataclass(frozen=True, eq=False)
class CheckNode(Node):
    info: CheckInfo
    params: Params
    label: str | None = None

    def evaluate(self, view: TextView) -> Verdict:
        try:
            subject: Any = conversation_of(view) if self.info.subject == "conversation" else view
            found = self.info.fn(subject, self.params)
        except Exception as exc:  # a bug of ours must not crash a batch or read as a fail
            return Verdict.of(
                self.info.id,
                None,
                f"internal error in check {self.info.id}: {type(exc).__name__}: {exc}",
                self._evidence(),
                version=self.info.version,
            )
        evidence = dict(found.evidence)
        if self.label is not None:
            evidence["label"] = self.label
        return Verdict.of(
            self.info.id,
            found.ok,
            found.reason,
            evidence,
            score=found.score,
            version=self.info.version,
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"check": self.info.id}
        params = self.params.model_dump(exclude_defaults=True)
        if params:
            d["params"] = params
        return self._labelled(d)


def _combine_all(children: Sequence[Verdict]) -> tuple[bool | None, str]:
    failed = [c for c in children if c.failed]
    if failed:
        return False, f"{len(failed)} of {len(children)} failed"
    if any(c.unscorable for c in children):
        return None, "no child failed, but some could not be judged"
    return True, f"all {len(children)} passed"


@dataclass(frozen=True, eq=False)
class AllNode(Node):
    children: tuple[Node, ...]
    label: str | None = None

    def evaluate(self, view: TextView) -> Verdict:
        kids = tuple(c.evaluate(view) for c in self.children)
        ok, reason = _combine_all(kids)
        scores = [k.score for k in kids if k.score is not None]
        score = (sum(scores) / len(scores) if scores else 1.0) if ok is not None else None
        if ok is True:
            score = 1.0
        return Verdict.of("all", ok, reason, self._evidence(), score=score, children=kids)

    def to_dict(self) -> dict[str, Any]:
        return self._labelled({"all": [c.to_dict() for c in self.children]})

    def walk(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass(frozen=True, eq=False)
class AnyNode(Node):
    children: tuple[Node, ...]
    label: str | None = None

    def evaluate(self, view: TextView) -> Verdict:
        kids = tuple(c.evaluate(view) for c in self.children)
        if any(k.passed for k in kids):
            ok: bool | None = True
            reason = f"{sum(k.passed for k in kids)} of {len(kids)} passed"
        elif any(k.unscorable for k in kids):
            ok, reason = None, "none passed, but some could not be judged"
        else:
            ok, reason = False, f"none of {len(kids)} passed"
        return Verdict.of("any", ok, reason, self._evidence(), children=kids)

    def to_dict(self) -> dict[str, Any]:
        return self._labelled({"any": [c.to_dict() for c in self.children]})

    def walk(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass(frozen=True, eq=False)
class NotNode(Node):
    child: Node
    label: str | None = None

    def evaluate(self, view: TextView) -> Verdict:
        kid = self.child.evaluate(view)
        ok = None if kid.unscorable else not kid.passed
        reason = "could not judge the negated spec" if ok is None else f"negated: {kid.reason}"
        return Verdict.of("not", ok, reason, self._evidence(), children=(kid,))

    def to_dict(self) -> dict[str, Any]:
        return self._labelled({"not": self.child.to_dict()})

    def walk(self) -> Iterator[Node]:
        yield self
        yield from self.child.walk()


@dataclass(frozen=True, eq=False)
class WeightedNode(Node):
    children: tuple[Node, ...]
    weights: tuple[float, ...]
    pass_at: float = 1.0
    label: str | None = None

    def evaluate(self, view: TextView) -> Verdict:
        kids = tuple(c.evaluate(view) for c in self.children)
        if any(k.unscorable for k in kids):
            return Verdict.of("weighted", None, "a weighted part could not be judged", self._evidence(), children=kids)
        total = sum(self.weights)
        score = sum(w * (k.score or 0.0) for w, k in zip(self.weights, kids, strict=True)) / total
        score = min(1.0, max(0.0, score))
        ok = score >= self.pass_at - 1e-12
        return Verdict.of(
            "weighted",
            ok,
            f"weighted score {score:.3f}; passes at {self.pass_at:g}",
            self._evidence(score=score),
            score=score,
            children=kids,
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "weighted": [{"weight": w, "spec": c.to_dict()} for w, c in zip(self.weights, self.children, strict=True)]
        }
        if self.pass_at != 1.0:
            d["pass_at"] = self.pass_at
        return self._labelled(d)

    def walk(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass(frozen=True, eq=False)
class WhenNode(Node):
    condition: Node
    then: Node
    otherwise: Node | None = None
    label: str | None = None

    def evaluate(self, view: TextView) -> Verdict:
        cond = self.condition.evaluate(view)
        if cond.unscorable:
            return Verdict.of("when", None, "could not judge the condition", self._evidence(), children=(cond,))
        branch = self.then if cond.passed else self.otherwise
        if branch is None:
            return Verdict.of(
                "when",
                True,
                "condition not met; nothing required",
                self._evidence(branch="none"),
                children=(cond,),
            )
        kid = branch.evaluate(view)
        name = "then" if cond.passed else "otherwise"
        return Verdict.of(
            "when",
            None if kid.unscorable else kid.passed,
            f"{name} branch: {kid.reason}",
            self._evidence(branch=name),
            score=kid.score,
            children=(cond, kid),
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"when": self.condition.to_dict(), "then": self.then.to_dict()}
        if self.otherwise is not None:
            d["otherwise"] = self.otherwise.to_dict()
        return self._labelled(d)

    def walk(self) -> Iterator[Node]:
        yield self
        yield from self.condition.walk()
        yield from self.then.walk()
        if self.otherwise is not None:
            yield from self.otherwise.walk()


IfNone = str  # "pass" | "fail" | "unscorable"
_IF_NONE = ("pass", "fail", "unscorable")


def _slice(items: list[TextView], start: int | None, stop: int | None) -> list[TextView]:
    """1-based inclusive ``from``/``to``; negative counts from the end (-1 is the last)."""
    n = len(items)
    lo = 0 if start is None else (start - 1 if start > 0 else max(0, n + start))
    hi = n if stop is None else (stop if stop > 0 else n + stop + 1)
    return items[lo:hi]


def _none_verdict(kind: str, node: Node, over: str, policy: IfNone) -> Verdict:
    ok = {"pass": True, "fail": False}.get(policy)
    return Verdict.of(kind, ok, f"no {over} found", node._evidence(over=over, items=0))


@dataclass(frozen=True, eq=False)
class EachNode(Node):
    over: str
    spec: Node
    min: int | None = None
    max: int | None = None
    label: str | None = None
    of: int | None = None
    start: int | None = None
    stop: int | None = None
    if_none: IfNone = "pass"

    def evaluate(self, view: TextView) -> Verdict:
        views = _slice(item_views(view, self.over), self.start, self.stop)
        if not views and self.if_none != "pass":
            return _none_verdict("each", self, self.over, self.if_none)
        kids = tuple(self.spec.evaluate(v) for v in views)
        passed = sum(k.passed for k in kids)
        unknown = sum(k.unscorable for k in kids)
        evidence = self._evidence(over=self.over, items=len(kids), passed=passed)
        if self.of is not None and len(kids) != self.of:
            reason = f"found {len(kids)} {self.over}; needs exactly {self.of}"
            return Verdict.of("each", False, reason, evidence, children=kids)
        lo = len(kids) if self.min is None and self.max is None else (self.min or 0)
        hi = self.max if self.max is not None else len(kids)
        # Decide only if the unscorable items cannot change the answer.
        ok_low, ok_high = lo <= passed <= hi, lo <= passed + unknown <= hi
        if unknown and ok_low != ok_high:
            ok: bool | None = None
        else:
            ok = lo <= passed <= hi and (unknown == 0 or ok_high)
        reason = f"{passed} of {len(kids)} {self.over} passed; needs {lo}..{hi}"
        score = passed / len(kids) if kids and ok is not None else None
        if ok is True:
            score = 1.0
        return Verdict.of("each", ok, reason, evidence, score=score, children=kids)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"each": self.over, "spec": self.spec.to_dict()}
        for key, value in (
            ("min", self.min),
            ("max", self.max),
            ("of", self.of),
            ("from", self.start),
            ("to", self.stop),
        ):
            if value is not None:
                d[key] = value
        if self.if_none != "pass":
            d["if_none"] = self.if_none
        return self._labelled(d)

    def walk(self) -> Iterator[Node]:
        yield self
        yield from self.spec.walk()


@dataclass(frozen=True, eq=False)
class WithinNode(Node):
    """Judge ``spec`` on the items of ``over`` joined into one text ("the table must contain
    at most 300 words", "all JSON keys are capitalised")."""

    over: str
    spec: Node
    if_none: IfNone = "fail"
    label: str | None = None

    def evaluate(self, view: TextView) -> Verdict:
        views = item_views(view, self.over)
        if not views:
            return _none_verdict("within", self, self.over, self.if_none)
        joined = view.memo(("within", self.over), lambda: derive_view(view, "\n\n".join(v.text for v in views)))
        kid = self.spec.evaluate(joined)
        return Verdict.of(
            "within",
            None if kid.unscorable else kid.passed,
            f"within {len(views)} {self.over}: {kid.reason}",
            self._evidence(over=self.over, items=len(views)),
            score=kid.score,
            children=(kid,),
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"within": self.over, "spec": self.spec.to_dict()}
        if self.if_none != "fail":
            d["if_none"] = self.if_none
        return self._labelled(d)

    def walk(self) -> Iterator[Node]:
        yield self
        yield from self.spec.walk()


@dataclass(frozen=True, eq=False)
class SequenceNode(Node):
    """Ordered parts: item ``i`` of ``over`` must pass ``steps[i]``.

    ``rest="forbid"`` (default) requires exactly as many items as steps; ``"allow"`` leaves
    extra items unconstrained. With ``chain=True`` a step is judged only if every earlier
    step passed (later steps then fail as "not reached"), as in ComplexBench's chains.
    """

    steps: tuple[Node, ...]
    over: str
    rest: str = "forbid"
    chain: bool = False
    label: str | None = None

    def evaluate(self, view: TextView) -> Verdict:
        views = item_views(view, self.over)
        n, k = len(views), len(self.steps)
        kids: list[Verdict] = []
        blocked = False
        for i, step in enumerate(self.steps):
            if i >= n:
                kids.append(Verdict.of("sequence.missing", False, f"part {i + 1} is missing", {"part": i + 1}))
            elif blocked:
                kids.append(
                    Verdict.of("sequence.not_reached", False, f"part {i + 1} not judged: an earlier part failed")
                )
            else:
                kid = step.evaluate(views[i])
                kids.append(kid)
                blocked = self.chain and not kid.passed
        evidence = self._evidence(over=self.over, items=n, steps=k)
        if n > k and self.rest == "forbid":
            reason = f"found {n} {self.over}; the sequence has {k} parts"
            return Verdict.of("sequence", False, reason, evidence, children=tuple(kids))
        ok, reason = _combine_all(kids)
        if ok is not None:
            reason = f"{sum(x.passed for x in kids)} of {k} parts passed (of {n} {self.over})"
        return Verdict.of("sequence", ok, reason, evidence, children=tuple(kids))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"sequence": [s.to_dict() for s in self.steps], "over": self.over}
        if self.rest != "forbid":
            d["rest"] = self.rest
        if self.chain:
            d["chain"] = True
        return self._labelled(d)

    def walk(self) -> Iterator[Node]:
        yield self
        for s in self.steps:
            yield from s.walk()


@dataclass(frozen=True, eq=False)
class TurnNode(Node):
    """Judge ``spec`` on one assistant turn: 1-based, negative from the end, "last"/"first"."""

    turn: int
    spec: Node
    label: str | None = None

    def evaluate(self, view: TextView) -> Verdict:
        conv = conversation_of(view)
        n = len(conv.assistant_indices)
        index = self.turn - 1 if self.turn > 0 else n + self.turn
        if not 0 <= index < n:
            return Verdict.of(
                "turn",
                None,
                f"the dialogue has {n} assistant turn(s); turn {self.turn} does not exist",
                self._evidence(turn=self.turn, turns=n),
            )
        kid = self.spec.evaluate(view if index == n - 1 and view.text == conv.last else conv.turn_view(index))
        return Verdict.of(
            "turn",
            None if kid.unscorable else kid.passed,
            f"turn {index + 1}: {kid.reason}",
            self._evidence(turn=index + 1, turns=n),
            score=kid.score,
            children=(kid,),
        )

    def to_dict(self) -> dict[str, Any]:
        turn: int | str = {-1: "last", 1: "first"}.get(self.turn, self.turn)
        return self._labelled({"turn": turn, "spec": self.spec.to_dict()})

    def walk(self) -> Iterator[Node]:
        yield self
        yield from self.spec.walk()


@dataclass(frozen=True, eq=False)
class LooseNode(Node):
    """IFEval's loose mode: pass if any response variant passes; empty variants never pass."""

    child: Node
    variants: tuple[str, ...] = IFEVAL_VARIANTS
    label: str | None = None

    def evaluate(self, view: TextView) -> Verdict:
        kids: list[Verdict] = []
        unknown = False
        # Variants that come out equal share one view (variant_view); judging the same
        # view again gives the same verdict (checks are pure), so it is reused.
        judged: dict[int, Verdict] = {}
        child = self.child
        for name in self.variants:
            v = variant_view(view, name)
            if not v.stripped:
                kids.append(Verdict.of("loose.variant", False, f"variant {name} is empty", {"variant": name}))
                continue
            kid = judged.get(id(v))
            if kid is None:
                kid = judged[id(v)] = child.evaluate(v)
            kids.append(kid)
            if kid.outcome == "pass":
                return Verdict.of(
                    "loose",
                    True,
                    f"variant {name} passes: {kid.reason}",
                    self._evidence(variant=name),
                    children=tuple(kids),
                )
            unknown = unknown or kid.outcome == "unscorable"
        reason = kids[0].reason if kids else "no variants"
        if unknown:
            return Verdict.of(
                "loose", None, "no variant passed; some could not be judged", self._evidence(), children=tuple(kids)
            )
        return Verdict.of("loose", False, f"no variant passes: {reason}", self._evidence(), children=tuple(kids))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"loose": self.child.to_dict()}
        if self.variants != IFEVAL_VARIANTS:
            d["variants"] = list(self.variants)
        return self._labelled(d)

    def walk(self) -> Iterator[Node]:
        yield self
        yield from self.child.walk()


@dataclass(frozen=True, eq=False)
class TransformNode(Node):
    name: str
    fn: Callable[[str], str]
    child: Node
    label: str | None = None

    def evaluate(self, view: TextView) -> Verdict:
        sub = view.memo(("transform", self.name), lambda: derive_view(view, self.fn(view.text)))
        kid = self.child.evaluate(sub)
        return Verdict.of(
            "transform",
            None if kid.unscorable else kid.passed,
            f"after {self.name}: {kid.reason}",
            self._evidence(transform=self.name),
            score=kid.score,
            children=(kid,),
        )

    def to_dict(self) -> dict[str, Any]:
        return self._labelled({"transform": self.name, "spec": self.child.to_dict()})

    def walk(self) -> Iterator[Node]:
        yield self
        yield from self.child.walk()


# -- parsing ------------------------------------------------------------------------------

_KINDS = ("check", "all", "any", "not", "weighted", "when", "each", "within", "sequence", "turn", "loose", "transform")


def _expect_keys(raw: Mapping[str, Any], allowed: set[str], path: str) -> None:
    extra = set(raw) - allowed - {"label"}
    if extra:
        raise SpecError(f"unexpected key(s) {sorted(extra)}; this node takes {sorted(allowed | {'label'})}", path)


def _node_list(raw: Any, path: str) -> tuple[Node, ...]:
    if not isinstance(raw, list) or not raw:
        raise SpecError(f"expected a non-empty list of specs, got {type(raw).__name__}", path)
    return tuple(parse_node(item, f"{path}[{i}]") for i, item in enumerate(raw))


def _opt_int(raw: Mapping[str, Any], key: str, path: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(f"expected a non-negative integer, got {value!r}", f"{path}.{key}")
    return value


def _opt_index(raw: Mapping[str, Any], key: str, path: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise SpecError(f"expected a non-zero integer (1 = first, -1 = last), got {value!r}", f"{path}.{key}")
    return value


def _if_none(raw: Mapping[str, Any], default: str, path: str) -> str:
    value = raw.get("if_none", default)
    if value not in _IF_NONE:
        raise SpecError(f"if_none must be one of {list(_IF_NONE)}, got {value!r}", f"{path}.if_none")
    return str(value)


def parse_node(raw: Any, path: str = "spec") -> Node:
    """Parse and validate one spec node (and its whole subtree)."""
    if not isinstance(raw, Mapping):
        raise SpecError(f"a spec node must be an object, got {type(raw).__name__} {raw!r}", path)
    kinds = [k for k in _KINDS if k in raw]
    if len(kinds) != 1:
        what = "none" if not kinds else ", ".join(kinds)
        raise SpecError(f"a spec node needs exactly one of {list(_KINDS)}; found {what}", path)
    kind = kinds[0]
    label = raw.get("label")
    if label is not None and not isinstance(label, str):
        raise SpecError(f"label must be a string, got {label!r}", f"{path}.label")

    if kind == "check":
        _expect_keys(raw, {"check", "params"}, path)
        info = REGISTRY.get(raw["check"], f"{path}.check")
        return CheckNode(info, info.parse_params(raw.get("params"), f"{path}.params"), label)
    if kind in ("all", "any"):
        _expect_keys(raw, {kind}, path)
        kids = _node_list(raw[kind], f"{path}.{kind}")
        return AllNode(kids, label) if kind == "all" else AnyNode(kids, label)
    if kind == "not":
        _expect_keys(raw, {"not"}, path)
        return NotNode(parse_node(raw["not"], f"{path}.not"), label)
    if kind == "weighted":
        _expect_keys(raw, {"weighted", "pass_at"}, path)
        items = raw["weighted"]
        if not isinstance(items, list) or not items:
            raise SpecError("expected a non-empty list of {weight, spec}", f"{path}.weighted")
        parts: list[Node] = []
        weights: list[float] = []
        for i, item in enumerate(items):
            ipath = f"{path}.weighted[{i}]"
            if not isinstance(item, Mapping) or "spec" not in item:
                raise SpecError("expected an object {weight, spec}", ipath)
            w = item.get("weight", 1.0)
            if isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0:
                raise SpecError(f"weight must be a non-negative number, got {w!r}", f"{ipath}.weight")
            weights.append(float(w))
            parts.append(parse_node(item["spec"], f"{ipath}.spec"))
        if sum(weights) <= 0:
            raise SpecError("weights must not all be zero", f"{path}.weighted")
        pass_at = raw.get("pass_at", 1.0)
        if isinstance(pass_at, bool) or not isinstance(pass_at, (int, float)) or not 0 <= pass_at <= 1:
            raise SpecError(f"pass_at must be a number in [0, 1], got {pass_at!r}", f"{path}.pass_at")
        return WeightedNode(tuple(parts), tuple(weights), float(pass_at), label)
    if kind == "when":
        _expect_keys(raw, {"when", "then", "otherwise"}, path)
        if "then" not in raw:
            raise SpecError("a 'when' node needs a 'then' spec", path)
        otherwise = raw.get("otherwise")
        return WhenNode(
            parse_node(raw["when"], f"{path}.when"),
            parse_node(raw["then"], f"{path}.then"),
            None if otherwise is None else parse_node(otherwise, f"{path}.otherwise"),
            label,
        )
    if kind == "each":
        _expect_keys(raw, {"each", "spec", "min", "max", "of", "from", "to", "if_none"}, path)
        over = validate_kind(raw["each"], f"{path}.each")
        if "spec" not in raw:
            raise SpecError("an 'each' node needs a 'spec' for every item", path)
        lo, hi, of = _opt_int(raw, "min", path), _opt_int(raw, "max", path), _opt_int(raw, "of", path)
        if lo is not None and hi is not None and lo > hi:
            raise SpecError(f"min ({lo}) is greater than max ({hi})", path)
        if of is not None and lo is not None and lo > of:
            raise SpecError(f"min ({lo}) is greater than the number of items ({of})", path)
        return EachNode(
            over,
            parse_node(raw["spec"], f"{path}.spec"),
            lo,
            hi,
            label,
            of,
            _opt_index(raw, "from", path),
            _opt_index(raw, "to", path),
            _if_none(raw, "pass", path),
        )
    if kind == "within":
        _expect_keys(raw, {"within", "spec", "if_none"}, path)
        over = validate_kind(raw["within"], f"{path}.within")
        if "spec" not in raw:
            raise SpecError("a 'within' node needs a 'spec'", path)
        return WithinNode(over, parse_node(raw["spec"], f"{path}.spec"), _if_none(raw, "fail", path), label)
    if kind == "sequence":
        _expect_keys(raw, {"sequence", "over", "rest", "chain"}, path)
        if "over" not in raw:
            raise SpecError("a 'sequence' node needs 'over': the item kind its parts are", path)
        over = validate_kind(raw["over"], f"{path}.over")
        rest = raw.get("rest", "forbid")
        if rest not in ("forbid", "allow"):
            raise SpecError(f"rest must be 'forbid' or 'allow', got {rest!r}", f"{path}.rest")
        chain = raw.get("chain", False)
        if not isinstance(chain, bool):
            raise SpecError(f"chain must be true or false, got {chain!r}", f"{path}.chain")
        return SequenceNode(_node_list(raw["sequence"], f"{path}.sequence"), over, rest, chain, label)
    if kind == "turn":
        _expect_keys(raw, {"turn", "spec"}, path)
        turn = raw["turn"]
        if turn in ("last", "first"):
            turn = -1 if turn == "last" else 1
        if isinstance(turn, bool) or not isinstance(turn, int) or turn == 0:
            raise SpecError(
                f"turn must be 'last', 'first' or a non-zero integer (1 = first, -1 = last), got {turn!r}",
                f"{path}.turn",
            )
        if "spec" not in raw:
            raise SpecError("a 'turn' node needs a 'spec'", path)
        return TurnNode(turn, parse_node(raw["spec"], f"{path}.spec"), label)
    if kind == "loose":
        _expect_keys(raw, {"loose", "variants"}, path)
        variants = raw.get("variants", list(IFEVAL_VARIANTS))
        if not isinstance(variants, list) or not variants or any(v not in IFEVAL_VARIANTS for v in variants):
            raise SpecError(f"variants must be a non-empty list drawn from {list(IFEVAL_VARIANTS)}", f"{path}.variants")
        return LooseNode(parse_node(raw["loose"], f"{path}.loose"), tuple(variants), label)
    # transform
    _expect_keys(raw, {"transform", "spec"}, path)
    name = raw["transform"]
    fn = TRANSFORMS.get(name) if isinstance(name, str) else None
    if fn is None:
        raise SpecError(f"unknown transform {name!r}; choose one of {sorted(TRANSFORMS)}", f"{path}.transform")
    if "spec" not in raw:
        raise SpecError("a 'transform' node needs a 'spec'", path)
    return TransformNode(name, fn, parse_node(raw["spec"], f"{path}.spec"), label)


def load_document(text: str, path: str = "", what: str = "spec") -> Any:
    """JSON, else YAML: the one reader for specs, reward declarations and labels written as text.

    Raises :class:`SpecError` (at ``path``) when the text is neither.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"the {what} is neither valid JSON nor YAML: {exc}", path) from None


@dataclass(frozen=True, eq=False)
class Spec:
    """A validated spec tree. Build with :meth:`parse`; judge with :meth:`evaluate`."""

    root: Node

    @classmethod
    def parse(cls, raw: Any) -> Spec:
        """Parse a spec from a dict, a JSON/YAML string or a path to a .json/.yaml file."""
        if isinstance(raw, Spec):
            return raw
        if isinstance(raw, Path):
            raw = cls._load_file(raw)
        elif isinstance(raw, str):
            raw = cls._load_text(raw)
        return cls(parse_node(raw))

    @staticmethod
    def _load_text(text: str) -> Any:
        return load_document(text)

    @classmethod
    def _load_file(cls, path: Path) -> Any:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"cannot read spec file {str(path)!r}: {exc}") from None
        return cls._load_text(text)

    def evaluate(self, response: Response | TextView | str) -> Verdict:
        """Judge one response. Never raises on any text."""
        if isinstance(response, TextView):
            view = response
        elif isinstance(response, Response):
            view = response.view
        else:
            view = TextView(str(response))
        return self.root.evaluate(view)

    def to_dict(self) -> dict[str, Any]:
        return self.root.to_dict()

    def check_ids(self) -> list[str]:
        return sorted({n.info.id for n in self.root.walk() if isinstance(n, CheckNode)})

    def check_versions(self) -> dict[str, str]:
        return {n.info.id: n.info.version for n in self.root.walk() if isinstance(n, CheckNode)}
