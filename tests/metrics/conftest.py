"""Result rows built from the shared reference data (never copied into the repo)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def ifeval_reference_rows() -> list[dict[str, Any]]:
    """The 541 GPT-4 IFEval verdicts in the ifeval suite's result-row layout."""
    path = DATA / "ifeval" / "reference_verdicts.jsonl"
    if not path.exists():
        pytest.skip("shared IFEval reference data not present")
    rows = []
    for line in path.read_text().splitlines():
        ref = json.loads(line)
        ids = ref["instruction_id_list"]
        rows.append(
            {
                "key": ref["key"],
                "instructions": [
                    {"id": i, "strict": s, "loose": lo, "reason": "reference verdict"}
                    for i, s, lo in zip(ids, ref["strict"], ref["loose"], strict=True)
                ],
                "verdict": {
                    "check": "all",
                    "outcome": "pass" if ref["prompt_loose"] else "fail",
                    "score": 1.0 if ref["prompt_loose"] else 0.0,
                },
                "sample": 0,
            }
        )
    return rows


@pytest.fixture(scope="session")
def ifeval_rows() -> list[dict[str, Any]]:
    return ifeval_reference_rows()
