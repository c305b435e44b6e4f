"""The verdict tree: the single truth every reader (metrics, rewards, reports, server) consumes.

A verdict has three outcomes, never two: ``pass``, ``fail`` and ``unscorable`` (we could
not judge: our machinery timed out, the check does not apply, data is missing).
Unscorable carries ``score=None`` and must never be folded into 0 by a reader.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

__all__ = ["OUTCOMES", "Outcome", "Verdict"]

Outcome = Literal["pass", "fail", "unscorable"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "unscorable")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judgement of one check (or one spec node) on one subject.

    ``score`` is in [0, 1] and is ``None`` exactly when the outcome is unscorable.
    ``reason`` is one human sentence ("found 212 words; needs at least 300");
    ``evidence`` holds the small measured values behind it.
    """

    check: str
    outcome: Outcome
    score: float | None
    reason: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    children: tuple[Verdict, ...] = ()
    version: str = "1"

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {self.outcome!r}")
        if (self.score is None) != (self.outcome == "unscorable"):
            raise ValueError(
                f"score must be None exactly when the outcome is unscorable "
                f"(got outcome={self.outcome!r}, score={self.score!r})"
            )
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be within [0, 1], got {self.score!r}")

    # -- constructors -------------------------------------------------------------
    @classmethod
    def of(
        cls,
        check: str,
        ok: bool | None,
        reason: str = "",
        evidence: Mapping[str, Any] | None = None,
        *,
        score: float | None = None,
        children: tuple[Verdict, ...] = (),
        version: str = "1",
    ) -> Verdict:
        """Build a verdict from a tri-state: True pass, False fail, None unscorable."""
        if ok is None:
            outcome: Outcome = "unscorable"
            score = None
        else:
            outcome = "pass" if ok else "fail"
            if score is None:
                score = 1.0 if ok else 0.0
        return cls(check, outcome, score, reason, evidence or {}, children, version)

    # -- reading ------------------------------------------------------------------
    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    @property
    def failed(self) -> bool:
        return self.outcome == "fail"

    @property
    def unscorable(self) -> bool:
        return self.outcome == "unscorable"

    def walk(self) -> Iterator[Verdict]:
        """Every verdict of the tree, depth first, this one first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> Iterator[Verdict]:
        """The verdicts without children (the individual checks)."""
        if not self.children:
            yield self
        else:
            for child in self.children:
                yield from child.leaves()

    # -- serialisation --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict; :meth:`from_dict` restores an equal verdict."""
        out: dict[str, Any] = {
            "check": self.check,
            "outcome": self.outcome,
            "score": self.score,
            "reason": self.reason,
            "version": self.version,
        }
        if self.evidence:
            out["evidence"] = dict(self.evidence)
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        outcome = data["outcome"]
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        score = data.get("score")
        return cls(
            check=str(data["check"]),
            outcome=cast(Outcome, outcome),
            score=None if score is None else float(score),
            reason=str(data.get("reason", "")),
            evidence=dict(data.get("evidence") or {}),
            children=tuple(cls.from_dict(c) for c in data.get("children") or ()),
            version=str(data.get("version", "1")),
        )
