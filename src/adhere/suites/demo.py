"""The built-in demo suite: a few dozen prompts with responses, shipped inside the package.

``adhere eval demo`` needs nothing else: no download, no key, no model. Every sample
carries its own spec in adhere's spec language, and together they use every check
family of the catalog and every kind of spec node (``all``, ``any``, ``not``,
``weighted``, ``when``, ``each``, ``within``, ``sequence``, ``turn``, ``loose``,
``transform``). The responses were written by hand, some to pass and some to fail;
each sample says which (``expect``) and why (``note``), so the summary also shows how
many verdicts matched their author's intent.

The data file (``demo_data/demo.jsonl``) doubles as the responses file; its rows are::

    {"key", "prompt", "spec", "response", "expect": "pass" | "fail", "note",
     "history": [{"role", "content"}, ...]}      # optional earlier turns of a dialogue

Any file of that shape works with ``adhere eval demo --data FILE`` (responses default to
the same file), which makes the demo suite the simplest way to run specs of your own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import DatasetError
from ..subjects import Conversation, Message, Response
from ..verdict import Verdict
from .base import Pair, Sample, register_suite
from .text import TextSuite

__all__ = ["DEMO_FILE", "DemoSuite"]

DEMO_FILE = Path(__file__).with_name("demo_data") / "demo.jsonl"
_EXPECT = ("pass", "fail")


def _checks_in(tree: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Verdicts of registered checks in a stored verdict tree (spec nodes skipped)."""
    from ..registry import REGISTRY

    stack = [tree]
    while stack:
        node = stack.pop()
        if node.get("check") in REGISTRY:
            yield node
        stack.extend(node.get("children") or ())


class DemoSuite(TextSuite):
    """See the module docstring."""

    name = "demo"

    @property
    def default_source(self) -> str:
        return str(DEMO_FILE)

    def default_rows(self) -> Iterable[tuple[int, Any]]:
        return self._read_rows(DEMO_FILE)

    def default_responses(self, data: str | None) -> Path:
        """The demo's data carries its responses: the same file answers."""
        return Path(data) if data is not None else DEMO_FILE

    def sample_from_row(self, row: Mapping[str, Any], source: str, line: int) -> Sample:
        sample = super().sample_from_row(row, source, line)
        meta: dict[str, Any] = {}
        expect = row.get("expect")
        if expect is not None:
            if expect not in _EXPECT:
                raise DatasetError(f"'expect' must be 'pass' or 'fail', got {expect!r}", source, line)
            meta["expect"] = expect
        history = row.get("history")
        if history is not None:
            if not isinstance(history, list):
                raise DatasetError(f"'history' must be a list of messages, got {type(history).__name__}", source, line)
            try:
                meta["history"] = Conversation.of(history).messages
            except DatasetError as exc:
                raise DatasetError(f"'history': {exc}", source, line) from None
        return Sample(sample.key, sample.prompt, sample.payload, meta)

    def score_pair(self, pair: Pair) -> dict[str, Any]:
        row = self.base_row(pair)
        expect = pair.sample.meta.get("expect")
        if expect is not None:
            row["expect"] = expect
        if pair.response is None:
            verdict = Verdict.of("suite", False, "no response")
        else:
            history: tuple[Message, ...] = pair.sample.meta.get("history", ())
            turns = (*history, Message("user", pair.sample.prompt)) if history else ()
            response = Response(pair.response.text, pair.sample.prompt, turns)
            verdict = pair.sample.payload.evaluate(response)
        row["verdict"] = verdict.to_dict()
        return row

    def summarize(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Pass/fail counts, how many verdicts matched the ``expect`` labels, and per check
        how often it was evaluated and with which outcomes."""
        summary = super().summarize(rows)
        labelled = [r for r in rows if r.get("expect") in _EXPECT]
        summary["expected"] = {
            "labelled": len(labelled),
            "matched": sum(r["verdict"].get("outcome") == r["expect"] for r in labelled),
        }
        per_check: dict[str, dict[str, int]] = {}
        for r in rows:
            for v in _checks_in(r.get("verdict") or {}):
                counts = per_check.setdefault(str(v["check"]), {"evaluated": 0, "pass": 0, "fail": 0, "unscorable": 0})
                counts["evaluated"] += 1
                outcome = str(v.get("outcome"))
                if outcome in counts:
                    counts[outcome] += 1
        summary["per_check"] = dict(sorted(per_check.items()))
        return summary


register_suite("demo", DemoSuite)
