"""``transformers:PATH``: a local Hugging Face transformers model (the ``transformers`` extra).

For small models and offline work: the model and tokenizer are loaded from a local
directory on first use (``local_files_only``: never a hub download at run time) and
generation runs in a worker thread, one request at a time, so the event loop stays
responsive. Chat prompts go through the tokenizer's chat template when it has one.
Greedy decoding when ``temperature`` is unset or 0; otherwise sampling, seeded per
sample with ``seed + sample`` when a seed is given.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MissingExtraError, require
from .base import BaseGenerator, GenerationFailure, GenParams, Prompt, RawOutput, Request, prompt_to_json

if TYPE_CHECKING:
    from .cache import ResponseCache

__all__ = ["TransformersGenerator"]

_DEFAULT_MAX_NEW_TOKENS = 256


class TransformersGenerator(BaseGenerator):
    """Completions from a local ``transformers`` causal language model."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        device: str | None = None,
        cache: ResponseCache | None = None,
        strip_think: bool = False,
    ) -> None:
        for module in ("transformers", "torch"):  # fail at open time, not once per sample
            if importlib.util.find_spec(module) is None:
                raise MissingExtraError(module, "transformers")
        self.path = Path(path)
        super().__init__(f"transformers:{self.path}", concurrency=1, cache=cache, strip_think=strip_think)
        self.device = device
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            transformers: Any = require("transformers", "transformers")
            tokenizer = transformers.AutoTokenizer.from_pretrained(self.path, local_files_only=True)
            model = transformers.AutoModelForCausalLM.from_pretrained(self.path, local_files_only=True)
            if self.device:
                model = model.to(self.device)
            model.eval()
            self._loaded = (tokenizer, model)
        return self._loaded

    def _encode(self, tokenizer: Any, prompt: Prompt, system: str | None) -> Any:
        if isinstance(prompt, str) and system is None and not getattr(tokenizer, "chat_template", None):
            return tokenizer(prompt, return_tensors="pt")["input_ids"]
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt_to_json(prompt)
        assert isinstance(messages, list)
        if system is not None and not any(m.get("role") == "system" for m in messages):
            messages = [{"role": "system", "content": system}, *messages]
        if getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")
        text = "\n\n".join(str(m.get("content", "")) for m in messages)
        return tokenizer(text, return_tensors="pt")["input_ids"]

    def _generate(self, request: Request, params: GenParams) -> RawOutput:
        transformers: Any = require("transformers", "transformers")
        with self._lock:
            tokenizer, model = self._load()
            input_ids = self._encode(tokenizer, request.prompt, params.system)
            if self.device:
                input_ids = input_ids.to(self.device)
            kwargs: dict[str, Any] = {"max_new_tokens": params.max_tokens or _DEFAULT_MAX_NEW_TOKENS}
            if params.temperature:
                kwargs.update(do_sample=True, temperature=params.temperature)
                if params.top_p is not None:
                    kwargs["top_p"] = params.top_p
            else:
                kwargs["do_sample"] = False
            seed = params.sample_seed(request.sample)
            if seed is not None:
                transformers.set_seed(seed)
            if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
                kwargs["pad_token_id"] = tokenizer.eos_token_id
            kwargs.update(params.extra)
            output = model.generate(input_ids, attention_mask=input_ids.new_ones(input_ids.shape), **kwargs)
            new_tokens = output[0, input_ids.shape[1] :]
            text: str = tokenizer.decode(new_tokens, skip_special_tokens=True)
        finish = "length" if len(new_tokens) >= kwargs["max_new_tokens"] else "stop"
        if params.stop:
            cut = min((i for i in (text.find(s) for s in params.stop) if i >= 0), default=-1)
            if cut >= 0:
                text, finish = text[:cut], "stop"
        usage: Mapping[str, int] = {"prompt_tokens": int(input_ids.shape[1]), "completion_tokens": len(new_tokens)}
        return RawOutput(raw=text, finish_reason=finish, usage=usage)

    async def _complete(self, request: Request, params: GenParams) -> RawOutput:
        try:
            return await asyncio.to_thread(self._generate, request, params)
        except (OSError, ValueError, RuntimeError) as exc:  # bad model dir, too-long input, device errors
            raise GenerationFailure(f"{type(exc).__name__}: {exc}", "permanent") from exc
