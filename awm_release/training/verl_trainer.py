"""verl's sync trainer with the paper's mini-batches and per-rollout loss weights, and AWM metrics every step.

History-aware training turns a rollout of T turns into T samples. verl counts samples: its PPO mini-batch is
`ppo_mini_batch_size x n` samples and its loss a token mean over them, so a step of long rollouts would take
many more optimizer updates than the paper's `train_batch_size / ppo_mini_batch_size` (64 / 16 = 4), and a
20-turn rollout would weigh about 20 times a 1-turn one. With `awm.update_unit=rollout` (the default):

- a step takes exactly `train_batch_size / ppo_mini_batch_size` optimizer updates, each on an equal share of
  the step's samples (the batch is padded with verl's no-op samples to a multiple of updates x lcm(dp, n));
- every rollout weighs the same: after GRPO, each sample's advantages are scaled by L / L_i, where L_i is the
  number of tokens its rollout generated over all its turns and L the mean over the step's rollouts. Under verl's
  token-mean loss a rollout then contributes the mean of its tokens' policy-gradient terms, as in GRPO's
  (1/G) sum_i (1/|o_i|) sum_t. Scaling the advantage is exact for PPO's clipped objective (clipping decisions do
  not change); the KL term stays verl's token mean.

`awm.update_unit=sample` keeps verl's own behaviour. Either way the trainer logs, per step and over rollouts,
`awm_complete`, `awm_format_error`, `awm_turns`, `awm_length_stop` and `awm_reward` (from each rollout's
`reward_extra_info`, which verl itself reports only in validation), and `awm_optimizer_updates`.

The launcher installs this class as verl's "sync" trainer in every Ray worker of the job (verl_setup.py), so
`python -m verl.trainer.main_ppo` and all of verl's checks for the sync mode stay as they are.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any

import torch
import transfer_queue as tq
from omegaconf import DictConfig, OmegaConf
from tensordict import TensorDict
from transfer_queue import KVBatchMeta
from verl.trainer.ppo.v1 import trainer_base
from verl.trainer.ppo.v1.trainer_sync import PPOTrainerSync
from verl.workers.utils.padding import response_to_nested

from awm_release.training.settings import AWMSettings

ROLLOUT_METRICS = ("awm_complete", "awm_format_error", "awm_turns", "awm_length_stop", "awm_reward")


def register(_trainers: Any = None) -> None:
    """Make AWMSyncTrainer verl's "sync" trainer in this process (called once verl's v1 trainers are imported)."""
    trainer_base.TRAINER_REGISTRY["sync"] = AWMSyncTrainer


def rollout_of(key: str) -> str:
    """The rollout a TransferQueue sample belongs to: its key is `{uid}_{rollout index}_{turn sample index}`."""
    return key.rsplit("_", 1)[0]


def updates_per_step(config: DictConfig) -> int:
    """The paper's optimizer updates per step: tasks per step / tasks per mini-batch."""
    tasks, per_update = int(config.data.train_batch_size), int(config.actor_rollout_ref.actor.ppo_mini_batch_size)
    if tasks % per_update:
        raise ValueError(f"data.train_batch_size={tasks} is not a multiple of actor.ppo_mini_batch_size={per_update}; "
                         "with awm.update_unit=rollout a step makes train_batch_size / ppo_mini_batch_size updates")
    return tasks // per_update


def rollout_loss_scales(keys: Sequence[str], generated_tokens: Sequence[int]) -> list[float]:
    """Per sample, L / L_i: the factor that makes every rollout weigh the same under a token-mean loss.

    L_i is the tokens rollout i generated over all its samples, L the mean over rollouts that generated any.
    Samples of rollouts without tokens (verl's padding) get 1.0; they carry no loss anyway.
    """
    per_rollout: dict[str, int] = {}
    for key, tokens in zip(keys, generated_tokens, strict=True):
        per_rollout[rollout_of(key)] = per_rollout.get(rollout_of(key), 0) + int(tokens)
    active = [tokens for tokens in per_rollout.values() if tokens > 0]
    mean = sum(active) / len(active) if active else 1.0
    return [mean / per_rollout[rollout_of(key)] if per_rollout[rollout_of(key)] else 1.0 for key in keys]


def rollout_metrics(keys: Sequence[str], extra_fields: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Means over rollouts (not samples: a rollout's samples share its outcome) of its reward_extra_info."""
    outcomes: dict[str, dict[str, Any]] = {}
    for key, extra in zip(keys, extra_fields, strict=True):
        outcomes.setdefault(rollout_of(key), (extra or {}).get("reward_extra_info") or {})
    metrics = {}
    for name in ROLLOUT_METRICS:
        values = [float(info[name]) for info in outcomes.values() if name in info]
        if values:
            metrics[name] = sum(values) / len(values)
    return metrics


@contextlib.contextmanager
def _mini_batch_of(config: DictConfig, tasks: int) -> Iterator[None]:
    """verl sizes the actor's mini-batch as actor.ppo_mini_batch_size x n samples: set it for one update call."""
    actor = config.actor_rollout_ref.actor
    saved = actor.ppo_mini_batch_size
    actor.ppo_mini_batch_size = tasks
    try:
        yield
    finally:
        actor.ppo_mini_batch_size = saved


class AWMSyncTrainer(PPOTrainerSync):
    """verl's sync PPO trainer; see the module docstring for what `awm.update_unit=rollout` changes."""

    @cached_property
    def awm_settings(self) -> AWMSettings:
        section = OmegaConf.select(self.config, "awm")
        return AWMSettings.resolve({}, OmegaConf.to_container(section, resolve=True) if section is not None else None)

    @property
    def by_rollout(self) -> bool:
        return self.awm_settings.update_unit == "rollout"

    def _get_required_batch_multiple(self, dp_size: int) -> int:
        if not self.by_rollout:
            return super()._get_required_batch_multiple(dp_size)
        # Each update takes len/updates samples, which verl's worker splits over dp ranks; it is also set as
        # ppo_mini_batch_size x n, so it must divide by n.
        return updates_per_step(self.config) * math.lcm(dp_size, int(self.config.actor_rollout_ref.rollout.n))

    def _compute_advantage(self, batch: KVBatchMeta, metrics: dict) -> KVBatchMeta:
        batch = super()._compute_advantage(batch, metrics)
        if self.by_rollout:
            self._weigh_rollouts_equally(batch)
        return batch

    def _weigh_rollouts_equally(self, batch: KVBatchMeta) -> None:
        """Scale each sample's advantages by its rollout's L / L_i (rollout_loss_scales), in the TransferQueue."""
        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id,
                               select_fields=["advantages", "response_mask"])
        mask = data["response_mask"]
        generated = [int(row.sum()) for row in mask.unbind()]
        scales = torch.tensor(rollout_loss_scales(batch.keys, generated), dtype=torch.float32)
        advantages = data["advantages"].to_padded_tensor(0.0) * scales.unsqueeze(-1)
        tq.kv_batch_put(keys=batch.keys, partition_id=batch.partition_id,
                        fields=TensorDict({"advantages": response_to_nested(advantages, mask)}, batch_size=len(batch)))

    def _update_actor(self, batch: KVBatchMeta, metrics: dict) -> KVBatchMeta:
        if not self.by_rollout:
            return super()._update_actor(batch, metrics)
        updates = updates_per_step(self.config)
        samples_per_update = len(batch) // updates
        with _mini_batch_of(self.config, samples_per_update // int(self.config.actor_rollout_ref.rollout.n)):
            return super()._update_actor(batch, metrics)

    def _compute_metrics(self, batch: KVBatchMeta, metrics: dict, timing_raw: dict, global_steps: int, epoch: int) -> None:
        super()._compute_metrics(batch, metrics, timing_raw, global_steps, epoch)
        metrics.update(self.awm_step_metrics(batch))

    def awm_step_metrics(self, batch: KVBatchMeta) -> dict[str, float]:
        """AWM's per-step metrics: outcomes over the step's rollouts, and the optimizer updates the step took."""
        keys = [key for key, tag in zip(batch.keys, batch.tags, strict=True) if not tag.get("is_padding", False)]
        extra = tq.kv_batch_get(keys=keys, partition_id=batch.partition_id, select_fields=["extra_fields"])
        metrics = rollout_metrics(keys, list(extra["extra_fields"]))
        actor = self.config.actor_rollout_ref.actor
        samples_per_update = int(actor.ppo_mini_batch_size) * int(self.config.actor_rollout_ref.rollout.n)
        mini_batches = updates_per_step(self.config) if self.by_rollout else math.ceil(len(batch) / samples_per_update)
        metrics["awm_optimizer_updates"] = float(mini_batches * int(actor.ppo_epochs))
        return metrics
