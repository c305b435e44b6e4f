"""The default IFEval data comes from the Hugging Face hub (``google/IFEval``) via the hf extra.

The hub is the edge of the world here: a stand-in ``datasets`` module returns rows in
the hub's layout, where every kwargs object carries every key of every instruction,
``None`` where it does not apply.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from adhere.errors import DatasetError, MissingExtraError
from adhere.suites.base import Pair, ResponseRow
from adhere.suites.ifeval import IFEvalSuite

HUB_KEYS = ["num_highlights", "relation", "num_words", "num_placeholders", "prompt_to_repeat", "num_bullets",
            "section_spliter", "num_sections", "capital_relation", "capital_frequency", "keywords", "num_paragraphs",
            "language", "let_relation", "letter", "let_frequency", "end_phrase", "forbidden_words", "keyword",
            "frequency", "num_sentences", "postscript_marker", "first_word", "nth_paragraph"]  # fmt: skip


def _hub_kwargs(**given: Any) -> dict[str, Any]:
    return {k: given.get(k) for k in HUB_KEYS}


HUB_ROWS = [
    {
        "key": 1000,
        "prompt": "Write a 300+ word summary. Do not use any commas.",
        "instruction_id_list": ["punctuation:no_comma", "length_constraints:number_words"],
        "kwargs": [_hub_kwargs(), _hub_kwargs(relation="at least", num_words=300)],
    },
    {
        "key": 2785,
        "prompt": "Write a template with at least one placeholder.",
        "instruction_id_list": ["detectable_content:number_placeholders"],
        "kwargs": [_hub_kwargs(num_placeholders=3)],
    },
]


def _fake_datasets(rows: list[dict[str, Any]] | Exception) -> types.ModuleType:
    module = types.ModuleType("datasets")

    def load_dataset(name: str, split: str) -> list[dict[str, Any]]:
        assert (name, split) == ("google/IFEval", "train")
        if isinstance(rows, Exception):
            raise rows
        return rows

    module.load_dataset = load_dataset  # type: ignore[attr-defined]
    return module


def test_default_data_is_the_hub_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", _fake_datasets(HUB_ROWS))
    suite = IFEvalSuite()
    samples = suite.load(None)
    assert suite.problems == [] and [s.key for s in samples] == [1000, 2785]
    # the hub's kwargs say 3 placeholders although its prompt says "one": kwargs rule, as in the reference
    row = suite.score_pair(Pair(samples[1], ResponseRow("Dear [name], at [place].", key=2785)))
    assert row["instructions"][0]["strict"] is False
    assert row["instructions"][0]["reason"] == "found 2 placeholders; needs at least 3"


def test_hub_failures_are_dataset_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", _fake_datasets(ConnectionError("offline")))
    with pytest.raises(DatasetError, match="google/IFEval: cannot load the Hugging Face dataset: ConnectionError"):
        IFEvalSuite().load(None)


def test_without_the_hf_extra_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # import fails
    with pytest.raises(MissingExtraError, match=r"pip install 'adhere\[hf\]'"):
        IFEvalSuite().load(None)
