"""adhere as an Inspect scorer, in a real ``inspect_ai.eval`` run with Inspect's offline mock model
(slow; needs ``adhere[inspect]``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def test_inspect_eval_with_the_adhere_scorer(tmp_path: Path) -> None:
    inspect_ai = pytest.importorskip("inspect_ai")
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ModelOutput, ModelUsage, get_model
    from inspect_ai.solver import generate

    from adhere.integrations.inspect import adhere

    no_comma = json.dumps({"spec": {"check": "punctuation.no_comma"}})
    samples = [
        Sample(input="Answer without commas.", target=no_comma, id="a"),
        Sample(input="Answer without commas.", target=no_comma, id="b"),
        Sample(input="Broken label.", target="{not json", id="c"),
        Sample(
            input="At least three words.",
            target="",
            id="d",
            metadata={
                "label": {
                    "instruction_id_list": ["length_constraints:number_words"],
                    "kwargs": [{"num_words": 3, "relation": "at least"}],
                }
            },
        ),
    ]
    outputs = ["no commas here", "yes, a comma", "whatever", "one two three"]
    scripted = []
    for text in outputs:
        out = ModelOutput.from_content(model="mockllm/model", content=text)
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)  # no tokenizer download
        scripted.append(out)
    model = get_model("mockllm/model", custom_outputs=scripted)
    task = inspect_ai.Task(dataset=samples, solver=generate(), scorer=adhere())
    [log] = inspect_ai.eval(task, model=model, log_dir=str(tmp_path), display="none", max_samples=1)
    assert log.status == "success", log.error
    scores = {s.id: s.scores["adhere"] for s in log.samples}
    assert scores["a"].value == 1.0 and scores["b"].value == 0.0 and scores["d"].value == 1.0
    assert math.isnan(scores["c"].value)  # unscored: kept in the log, left out of the metrics
    assert "must be JSON" in (scores["c"].explanation or "")
    metrics = log.results.scores[0].metrics
    assert metrics["mean"].value == pytest.approx(2 / 3)  # 3 scored samples, not 4
