"""What every report shows, computed once and rendered three ways (terminal, Markdown, HTML)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..metrics.bootstrap import DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES, Interval
from ..metrics.compare import RunComparison, compare_runs
from ..metrics.paired import DEFAULT_PERMUTATIONS
from ..metrics.stats import RunStatistics, run_statistics
from ..metrics.units import Layout, row_failures, row_passed, sample_of, unit_of
from .run import RunData

__all__ = ["DISPLAY_NAMES", "Failure", "Report", "build_report", "display_name", "pct", "pct_interval"]

DISPLAY_NAMES = {
    "prompt_strict": "Prompt-level strict",
    "inst_strict": "Instruction-level strict",
    "prompt_loose": "Prompt-level loose",
    "inst_loose": "Instruction-level loose",
    "overall": "All constraints met",
    "macro": "Constraints met (macro)",
    "micro": "Constraints met (micro)",
    "pass_rate": "Pass rate",
    "strict": "Strict",
    "lenient": "Lenient",
    "fidelity": "Label fidelity",
}
MAX_PROMPT_CHARS = 4_000
MAX_RESPONSE_CHARS = 20_000


def display_name(metric: str) -> str:
    return DISPLAY_NAMES.get(metric, metric)


def pct(value: float | None, digits: int = 1) -> str:
    """``0.77079`` → ``77.1%``; missing values are an em dash, never 0."""
    if value is None or math.isnan(value):
        return "—"
    return f"{100 * value:.{digits}f}%"


def pct_interval(interval: Interval, digits: int = 1) -> str:
    if math.isnan(interval.low):
        return "—"
    return f"{pct(interval.low, digits)} – {pct(interval.high, digits)}"


def signed_pct(value: float, digits: int = 1) -> str:
    if math.isnan(value):
        return "—"
    return f"{100 * value:+.{digits}f} pp"


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clip(text: str, limit: int) -> tuple[str, bool]:
    """Text fit for display: at most ``limit`` characters, control characters (which HTML
    and terminals mishandle) replaced by U+FFFD."""
    clipped = len(text) > limit
    return _CONTROL_RE.sub("\ufffd", text[:limit]), clipped


@dataclass(frozen=True)
class Failure:
    """One failed or unscorable sample, with what to look at."""

    unit: str
    sample: int
    outcome: str
    prompt: str
    response: str
    clipped: bool
    items: list[tuple[str, str, str]]


@dataclass
class Report:
    """A run's statistics, its failures, and optionally a comparison with another run."""

    run: RunData
    stats: RunStatistics
    failures: list[Failure]
    total_failures: int
    other: RunData | None = None
    other_stats: RunStatistics | None = None
    comparison: RunComparison | None = None
    prompts: Mapping[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        suite = self.run.suite or self.stats.layout
        return f"{suite} · {self.run.name}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run": self.run.describe(),
            "statistics": self.stats.to_dict(),
            "failures": self.total_failures,
            "problems": list(self.run.problems),
        }
        if self.other is not None and self.comparison is not None and self.other_stats is not None:
            out["compare"] = {
                "run": self.other.describe(),
                "statistics": self.other_stats.to_dict(),
                "comparison": self.comparison.to_dict(),
            }
        return out


def _failures(run: RunData, layout: Layout, limit: int) -> tuple[list[Failure], int]:
    out: list[Failure] = []
    total = 0
    for row in run.rows:
        passed = row_passed(row, layout)
        if passed:
            continue
        total += 1
        if len(out) >= limit:
            continue
        prompt = row.get("prompt")
        response = row.get("response", row.get("completion", row.get("solution")))
        prompt_text, _ = _clip(str(prompt) if prompt is not None else "", MAX_PROMPT_CHARS)
        response_text, clipped = _clip(str(response) if response is not None else "", MAX_RESPONSE_CHARS)
        out.append(
            Failure(
                unit=unit_of(row),
                sample=sample_of(row),
                outcome="unscorable" if passed is None else "fail",
                prompt=prompt_text,
                response=response_text,
                clipped=clipped,
                items=row_failures(row, layout),
            )
        )
    return out, total


def build_report(
    run: RunData,
    other: RunData | None = None,
    *,
    seed: int = 0,
    n_resamples: int = DEFAULT_RESAMPLES,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    confidence: float = DEFAULT_CONFIDENCE,
    max_failures: int = 500,
) -> Report:
    """Everything a report shows about ``run`` (compared with ``other`` when given)."""
    kw: dict[str, Any] = {"seed": seed, "n_resamples": n_resamples, "confidence": confidence}
    stats = run_statistics(run.rows, run.summary, **kw)
    failures, total = _failures(run, stats.layout, max_failures)
    prompts = {unit_of(r): str(r["prompt"]) for r in run.rows if isinstance(r.get("prompt"), str)}
    report = Report(run, stats, failures, total, prompts=prompts)
    if other is not None:
        report.other = other
        report.other_stats = run_statistics(other.rows, other.summary, **kw)
        report.comparison = compare_runs(
            run.rows, other.rows, run.summary, other.summary, n_permutations=n_permutations, **kw
        )
        for r in other.rows:
            if isinstance(r.get("prompt"), str):
                prompts.setdefault(unit_of(r), str(r["prompt"]))
    return report
