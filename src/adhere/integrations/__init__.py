"""Adapters from trainers' and frameworks' call conventions to adhere's one reward core.

Each adapter is a thin translation of :func:`adhere.rewards.score_items` and imports no
trainer library itself, so it can be loaded where the trainer runs:

* :mod:`adhere.integrations.trl` — ``reward_func(...)`` for ``trl.GRPOTrainer`` (sync and async;
  unscorable rows are ``None``).
* :mod:`adhere.integrations.verl` — ``compute_score`` (naive / dapo / reward-loop managers),
  ``compute_score_prime`` (positional, ``prime``) and ``compute_score_batch`` (``batch``).
* :mod:`adhere.integrations.openrlhf` — the remote reward protocol (``get_reward(payload)`` for
  ``POST /get_reward``) and OpenRLHF's ``--remote_rm_url reward_func.py`` form.
* :mod:`adhere.integrations.inspect` — ``adhere(...)``, an Inspect scorer (needs ``adhere[inspect]``;
  unscorable samples are ``Score.unscored``).

verl and OpenRLHF cannot take ``None``: unscorable rows get a fallback value you choose
(``unscorable_value`` / ``ADHERE_UNSCORABLE_VALUE``, default 0.0) and an ``unscorable`` flag.
"""
