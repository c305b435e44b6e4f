"""Wire models of the HTTP API (pydantic at the boundary; dataclasses inside)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from pydantic.config import JsonDict

__all__ = [
    "OpenRLHFRequest",
    "RewardRequest",
    "RewardResponse",
    "SampleIn",
    "SampleResult",
    "VerifyRequest",
    "VerifyResponse",
]


_IFEVAL_ROW: JsonDict = {
    "instruction_id_list": ["punctuation:no_comma", "change_case:english_lowercase"],
    "kwargs": [{}, {}],
}
_SAMPLES: list[JsonValue] = [
    {"response": "all lowercase and no commas.", "prompt": "Answer in lowercase.", "label": _IFEVAL_ROW},
    {"response": "Short, with a comma.", "spec": {"all": [{"check": "punctuation.no_comma"}]}},
    {
        "response": "```python\ndef add(a, b):\n    return a + b\n```",
        "label": {"tests": {"asserts": ["assert add(1, 2) == 3"]}},
    },
]


class SampleIn(BaseModel):
    """One response to judge, with what it must adhere to: a ``spec`` or a ``label``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": _SAMPLES})

    response: str = Field(description="The model output to judge.")
    prompt: str = Field("", description="The prompt (some checks read it, e.g. repeat-the-prompt).")
    spec: dict[str, Any] | None = Field(None, description="A spec tree (see docs/specs.md).")
    label: dict[str, Any] | str | None = Field(
        None, description="A label in adhere's label language (a spec, an IFEval/IFBench row, or code tests)."
    )


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"samples": _SAMPLES}]})

    samples: list[SampleIn] = Field(min_length=1)
    deadline_s: float | None = Field(None, gt=0, le=3600, description="Wall-time budget for this request.")


class SampleResult(BaseModel):
    outcome: str
    score: float | None
    reason: str
    verdict: dict[str, Any]


class VerifyResponse(BaseModel):
    results: list[SampleResult]
    elapsed_s: float


class RewardRequest(VerifyRequest):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"samples": _SAMPLES, "reward": "fraction"}]}
    )

    reward: Any = Field("binary", description="A reward declaration (see docs/rewards.md); a label's own wins.")
    mode: Literal["strict", "loose"] = Field("strict", description="IFEval/IFBench mode for rows without one.")
    unscorable_value: float | None = Field(
        None, description="Reward to send for unscorable samples; null keeps them null (the honest default)."
    )


class RewardResponse(BaseModel):
    rewards: list[float | None]
    unscorable: list[bool]
    reasons: list[str]
    elapsed_s: float


class OpenRLHFRequest(BaseModel):
    """OpenRLHF's remote reward request (``--remote_rm_url``): one entry per rollout in each list."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "query": ["<|im_start|>user\nBe brief.<|im_end|>\n<|im_start|>assistant\nok, brief<|im_end|>"],
                    "prompts": ["<|im_start|>user\nBe brief.<|im_end|>\n<|im_start|>assistant\n"],
                    "labels": ['{"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}'],
                }
            ]
        }
    )

    query: list[str] = Field(description="Prompt and response as the tokenizer decoded them.")
    prompts: list[Any] = Field(description="The prompt of each query (text).")
    labels: list[Any] = Field(description="Each row's label in adhere's label language (object or JSON string).")
