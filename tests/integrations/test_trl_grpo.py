"""A real TRL ``GRPOTrainer`` run on the CPU with adhere's reward functions (slow; needs ``adhere[trl]``).

The model and tokenizer are built here, with random weights and a tokenizer trained on a
few sentences: nothing is downloaded. The run is short (two optimiser steps); what is
checked is the contract: TRL accepts our callables (sync and async), calls them with its
real arguments, and logs ``rewards/<name>/mean``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

pytestmark = [
    pytest.mark.slow,
    # transformers/TRL/torch deprecation notices about their own defaults are not ours to fix
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

CORPUS = [
    "Write a short answer without any commas.",
    "Answer in at least five words please.",
    "no commas here at all",
    "one two three four five six",
    "yes, this has a comma, and another",
] * 20


def tiny_model_and_tokenizer() -> tuple[Any, Any]:
    tokenizers = pytest.importorskip("tokenizers")
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "<s>", "</s>", "<unk>"],
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS, trainer)
    hf_tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    config = transformers.LlamaConfig(
        vocab_size=len(hf_tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=128,
        pad_token_id=hf_tok.pad_token_id,
        bos_token_id=hf_tok.bos_token_id,
        eos_token_id=hf_tok.eos_token_id,
    )
    return transformers.LlamaForCausalLM(config), hf_tok


def test_grpo_trainer_logs_adhere_rewards(tmp_path: Path) -> None:
    trl = pytest.importorskip("trl")
    datasets = pytest.importorskip("datasets")
    from adhere.integrations.trl import reward_func

    model, tokenizer = tiny_model_and_tokenizer()
    rows = [
        {
            "prompt": "Write a short answer without any commas.",
            "instruction_id_list": ["punctuation:no_comma"],
            "kwargs": [{}],
        },
        {
            "prompt": "Answer in at least five words please.",
            "instruction_id_list": ["length_constraints:number_words", "punctuation:no_comma"],
            "kwargs": [{"num_words": 5, "relation": "at least"}, {}],
        },
    ] * 4
    # Arrow unifies the kwargs structs: absent keys come back as None, as on the hub
    dataset = datasets.Dataset.from_list(rows)
    sync_reward = reward_func("ifeval")
    async_reward = reward_func("ifeval", reward="fraction", name="adhere_ifeval_fraction", asynchronous=True)
    args = trl.GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=12,
        max_steps=2,
        logging_steps=1,
        learning_rate=1e-3,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        bf16=False,
        seed=0,
    )
    trainer = trl.GRPOTrainer(
        model=model,
        reward_funcs=[sync_reward, async_reward],
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "rewards/adhere_ifeval/mean" in entry]
    assert len(logs) == 2
    for entry in logs:
        for name in ("adhere_ifeval", "adhere_ifeval_fraction"):
            value = entry[f"rewards/{name}/mean"]
            assert math.isfinite(value) and 0.0 <= value <= 1.0
        assert entry["rewards/adhere_ifeval/mean"] <= entry["rewards/adhere_ifeval_fraction/mean"] + 1e-9
        assert entry["adhere/adhere_ifeval/unscorable_frac"] == 0.0  # logged through TRL's log_metric


def test_trl_names_and_detects_our_callables() -> None:
    pytest.importorskip("trl")
    from trl.trainer.utils import get_callable_name, is_async_callable

    from adhere.integrations.trl import reward_func

    assert get_callable_name(reward_func("ifeval")) == "adhere_ifeval"
    assert not is_async_callable(reward_func("ifeval"))
    assert is_async_callable(reward_func(asynchronous=True))
