"""A tiny spec-per-sample suite for runner tests, and file helpers.

It implements the Suite protocol in the simplest honest way (pair by key, one row per
pair, several samples per key allowed) so the runner is tested on the contract, not
on one real suite's layout.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from adhere.errors import DatasetError
from adhere.spec import Spec
from adhere.suites.base import SUITES, Pair, ResponseRow, Sample, register_suite


class TinySuite:
    name = "tiny"

    def load(self, data: str | None = None) -> list[Sample]:
        if data is None:
            raise DatasetError("the tiny suite needs --data")
        out = []
        for line in Path(data).read_bytes().splitlines():
            row = orjson.loads(line)
            out.append(Sample(row["key"], row["prompt"], Spec.parse(row["spec"])))
        return out

    def parse_response(self, row: Mapping[str, Any], line: int) -> ResponseRow:
        text = row.get("response")
        if not isinstance(text, str):
            raise DatasetError("needs a 'response' string", line=line)
        return ResponseRow(text=text, key=row.get("key"), sample_index=int(row.get("sample", 0)), line=line)

    def pair(self, samples: Sequence[Sample], responses: Sequence[ResponseRow]) -> tuple[list[Pair], list[str]]:
        by_key: dict[Any, list[ResponseRow]] = {}
        for r in responses:
            by_key.setdefault(r.key, []).append(r)
        pairs, problems = [], []
        for s in samples:
            got = by_key.pop(s.key, [])
            if not got:
                problems.append(f"no response for key {s.key!r}")
                pairs.append(Pair(s, None))
            pairs.extend(Pair(s, r) for r in got)
        problems.extend(f"response for unknown key {k!r}" for k in by_key)
        return pairs, problems

    def score(self, pairs: Sequence[Pair]) -> Iterator[dict[str, Any]]:
        for p in pairs:
            text = p.response.text if p.response is not None else ""
            verdict = p.sample.payload.evaluate(text)
            yield {"key": p.sample.key, "response": text, "verdict": verdict.to_dict()}

    def summarize(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        n = len(rows)
        passed = sum(r["verdict"]["outcome"] == "pass" for r in rows)
        return {"n": n, "passed": passed, "pass_rate": passed / n if n else 0.0}


@pytest.fixture
def tiny_suite() -> Iterator[str]:
    register_suite("tiny", TinySuite)
    yield "tiny"
    SUITES.pop("tiny", None)
