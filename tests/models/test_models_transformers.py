"""The local transformers backend, with a tiny model built here (never downloaded).

Skipped unless the ``transformers`` extra (and torch) are installed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from adhere.errors import MissingExtraError

HAVE = all(importlib.util.find_spec(m) is not None for m in ("transformers", "torch", "tokenizers"))


@pytest.mark.skipif(HAVE, reason="transformers is installed")
def test_missing_extra_says_what_to_install(tmp_path: Path) -> None:
    from adhere.models import open_generator

    with pytest.raises(MissingExtraError, match=r"adhere\[transformers\]"):
        open_generator(f"transformers:{tmp_path}")


@pytest.mark.skipif(not HAVE, reason="needs the transformers extra: pip install 'adhere[transformers]'")
def test_tiny_local_model_generates_deterministically(tmp_path: Path) -> None:
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = ["<unk>", "<eos>", "hello", "world", "say", "a", "b", "c", "d", "e"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>")
    fast.save_pretrained(tmp_path)
    config = transformers.GPT2Config(
        vocab_size=len(words), n_positions=64, n_embd=16, n_layer=1, n_head=2, eos_token_id=1, bos_token_id=1
    )
    transformers.set_seed(0)
    transformers.GPT2LMHeadModel(config).save_pretrained(tmp_path)

    from adhere.models import GenParams, open_generator

    gen = open_generator(f"transformers:{tmp_path}")
    params = GenParams(max_tokens=5)
    [[a, b]] = gen.generate(["say hello"], n=2, params=params)
    assert a.ok and b.ok, (a.error, b.error)
    assert a.text == b.text  # greedy
    assert set(a.text.split()) <= set(words)
    assert a.usage["completion_tokens"] <= 5
    [[s1], [s2]] = gen.generate(["say hello", "say hello"], params=GenParams(max_tokens=5, temperature=1.0, seed=7))
    assert s1.text == s2.text  # same seed, same sample index
