"""Corpora for the text-analysis parity tests, read from the shared reference data.

The data lives beside the project (``../shared/data`` from the repository root) and is
never copied into the repo. The references (langdetect, nltk) run in-process on the
same texts; nltk reads its Punkt model from ``../shared/data/nltk_data``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from adhere.spec import _variant_texts

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"reference data not found: {path}")
    return path


def _jsonl(path: Path) -> list[dict[str, object]]:
    with open(_need(path), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


@pytest.fixture(scope="session")
def ifeval_responses() -> list[str]:
    rows = _jsonl(DATA / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl")
    return [str(row["response"]) for row in rows]


@pytest.fixture(scope="session")
def ifeval_corpus(ifeval_responses: list[str]) -> list[str]:
    """Every IFEval response, all 8 loose variants of each, and every prompt (deduplicated)."""
    prompts = [str(row["prompt"]) for row in _jsonl(DATA / "ifeval" / "input_data.jsonl")]
    variants = [v for text in ifeval_responses for v in _variant_texts(text).values()]
    return _unique(variants + prompts)


@pytest.fixture(scope="session")
def ifbench_corpus() -> list[str]:
    rows = _jsonl(DATA / "ifbench" / "sample_output.jsonl")
    return _unique([str(row[k]) for row in rows for k in ("prompt", "response") if k in row])


@pytest.fixture(scope="session")
def muldimif_corpus() -> list[str]:
    with open(_need(DATA / "muldimif" / "test.json"), encoding="utf-8") as fh:
        rows = json.load(fh)
    texts = [turn["content"] for row in rows for turn in row["conversations"]]
    texts += [c[2] for row in rows for c in row["constraints"]]
    return _unique(texts)


@pytest.fixture(scope="session")
def nltk_data_dir() -> Path:
    """Point nltk at the shared Punkt model (the reference needs it; we do not)."""
    path = _need(DATA / "nltk_data").resolve()
    os.environ["NLTK_DATA"] = str(path)
    import nltk

    if str(path) not in nltk.data.path:
        nltk.data.path.insert(0, str(path))
    return path
