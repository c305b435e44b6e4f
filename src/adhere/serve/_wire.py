"""Wire models of the HTTP API (pydantic at the boundary; dataclasses inside)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "OpenRLHFRequest",
    "RewardRequest",
    "RewardResponse",
    "SampleIn",
    "SampleResult",
    "VerifyRequest",
    "VerifyResponse",
]


class SampleIn(BaseModel):
    """One response to judge, with what it must adhere to: a ``spec`` or a ``label``."""

    model_config = ConfigDict(extra="forbid")

    response: str = Field(description="The model output to judge.")
    prompt: str = Field("", description="The prompt (some checks read it, e.g. repeat-the-prompt).")
    spec: dict[str, Any] | None = Field(None, description="A spec tree (see docs/specs.md).")
    label: dict[str, Any] | str | None = Field(
        None, description="A label in adhere's label language (a spec, an IFEval/IFBench row, or code tests)."
    )


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

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

    query: list[str] = Field(description="Prompt and response as the tokenizer decoded them.")
    prompts: list[Any] = Field(description="The prompt of each query (text).")
    labels: list[Any] = Field(description="Each row's label in adhere's label language (object or JSON string).")
