"""Every example in docs/rewards.md runs: the Python block, and each JSON/YAML block parses as a
reward declaration or a label."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from adhere.labels import parse_label
from adhere.rewards import parse_reward

DOC = Path(__file__).resolve().parents[2] / "docs" / "rewards.md"
BLOCK = re.compile(r"```(json|yaml|python)\n(.*?)```", re.DOTALL)
LABEL_KEYS = {"spec", "instruction_id_list", "tests", "inputs"}


def blocks(kind: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(DOC.read_text(encoding="utf-8")) if lang == kind]


@pytest.mark.parametrize("text", blocks("json") + blocks("yaml"), ids=lambda t: t.strip()[:40])
def test_declaration_and_label_examples_parse(text: str) -> None:
    raw = yaml.safe_load(text) if not text.lstrip().startswith("{") else json.loads(text)
    if isinstance(raw, dict) and "reward" in raw and "custom_reward_function" in raw["reward"]:
        return  # verl's config, not ours
    if isinstance(raw, dict) and LABEL_KEYS & set(raw):
        parse_label(raw)
    else:
        parse_reward(raw)


def test_python_example_runs() -> None:
    [intro] = [b for b in blocks("python") if "score_items" in b]
    namespace: dict[str, object] = {}
    exec(compile(intro, str(DOC), "exec"), namespace)
    scored = namespace["scored"]
    assert scored.reward == 1.0  # type: ignore[attr-defined]
    assert scored.verdict.reason == "all 1 passed"  # type: ignore[attr-defined]
