"""The AWM sync trainer (awm_release/training/verl_trainer.py) on verl's real TransferQueue, with the launcher's config.

A step of the paper's shape goes through the trainer's own methods: 64 tasks x 16 rollouts of 1 to 12 turns
each (one sample per turn, as history-aware training makes them), stored in TransferQueue as verl's agent-loop
workers store them, padded by verl, advantages computed by verl's GRPO and then weighted by the trainer. The
optimizer updates per step are what verl's actor worker would make of the mini-batch size the trainer passes;
each rollout's loss weight is read off the gradient of verl's own policy loss (token-mean, as configured) over
each mini-batch, split across data-parallel ranks the way verl balances them. No GPU and no model.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import ray
import torch
import transfer_queue as tq
from omegaconf import DictConfig
from verl.trainer.ppo.core_algos import get_policy_loss_fn
from verl.trainer.ppo.padding_utils import upsample_batch_to_divisible_size
from verl.utils.config import omega_conf_to_dataclass
from verl.utils.seqlen_balancing import calculate_workload, get_seqlen_balanced_partitions
from verl.utils.tensordict_utils import list_of_dict_to_tensordict

from awm_release.training.verl_trainer import AWMSyncTrainer, rollout_metrics, rollout_of
from tests.test_verl_config import compose_trainer, dry_run

DP_SIZE = 8  # one node of 8 GPUs, as the 4B and 8B launchers run
EOS = 2


@pytest.fixture(scope="module")
def transfer_queue() -> Iterator[None]:
    """verl's TransferQueue on a local Ray cluster (its controller and storage are Ray actors)."""
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False, configure_logging=False)
    tq.init()
    yield
    tq.close()
    ray.shutdown()


def turns_of(task: int, rollout: int) -> int:
    return 1 + (task * 7 + rollout * 3) % 12


def tokens_of(task: int, rollout: int, turn: int) -> int:
    return 20 + (turn * 13 + task + rollout * 5) % 60


def reward_of(rollout: int) -> float:
    return (1.0, -1.0, 0.0, 0.1)[rollout % 4]  # complete, format error, others, partial: no advantage is zero


def put_step(tasks: int, rollouts: int) -> tuple[Any, dict[str, int]]:
    """A step's samples in TransferQueue, shaped as verl's AgentLoopWorkerTQ stores them; rollout -> its tokens."""
    keys, fields, tags, generated = [], [], [], {}
    for task in range(tasks):
        uid = f"task{task:03d}"
        for rollout in range(rollouts):
            turns, reward = turns_of(task, rollout), reward_of(rollout)
            info = {"awm_complete": float(reward == 1.0), "awm_format_error": float(reward == -1.0),
                    "awm_turns": float(turns), "awm_length_stop": 0.0, "awm_reward": reward}
            generated[f"{uid}_{rollout}"] = 0
            for turn in range(turns):
                length = tokens_of(task, rollout, turn)
                generated[f"{uid}_{rollout}"] += length
                scores = torch.zeros(length)
                scores[-1] = reward
                prompts, responses = torch.full((30,), 5), torch.full((length,), 7)
                keys.append(f"{uid}_{rollout}_{turn}")
                fields.append({"uid": uid, "prompts": prompts, "responses": responses,
                               "input_ids": torch.cat([prompts, responses]), "response_mask": torch.ones(length, dtype=torch.int64),
                               "rm_scores": scores, "num_turns": 2 * turns + 1,
                               "extra_fields": {"reward_extra_info": info}})
                tags.append({"status": "success", "prompt_len": 30, "response_len": length, "seq_len": 30 + length,
                             "global_steps": 1})
    meta = tq.kv_batch_put(keys=keys, partition_id="train", fields=list_of_dict_to_tensordict(fields), tags=tags)
    return meta, generated


def trainer_for(config: DictConfig) -> AWMSyncTrainer:
    """The trainer's step logic on `config`, without the GPU workers its __init__ would start."""
    trainer = AWMSyncTrainer.__new__(AWMSyncTrainer)
    trainer.config, trainer.global_steps, trainer.use_critic = config, 1, False  # as its __init__ sets them for GRPO
    trainer.actor_rollout_wg = RecordingActor()
    return trainer


class RecordingActor:
    """The actor worker group's update call, recording what the trainer asks of it."""

    def __init__(self) -> None:
        self.extra_info: dict[str, Any] = {}

    def update_actor(self, batch: Any) -> dict[str, Any]:
        self.extra_info = dict(batch.extra_info)
        return {"metrics": {"mfu": 0.0}}


def train_step(trainer: AWMSyncTrainer, batch: Any) -> tuple[Any, int]:
    """Pad, compute advantages and update as the trainer's step does; the optimizer updates verl's worker makes."""
    batch = upsample_batch_to_divisible_size(batch, trainer._get_required_batch_multiple(DP_SIZE), EOS)
    batch = trainer._compute_advantage(batch, {})
    trainer._update_actor(batch, {})
    mini_batch, epochs = trainer.actor_rollout_wg.extra_info["mini_batch_size"], trainer.actor_rollout_wg.extra_info["epochs"]
    assert mini_batch % DP_SIZE == 0 and len(batch) % mini_batch == 0  # what verl's worker asserts
    return batch, len(batch) // mini_batch * epochs


def rollout_weights(config: DictConfig, batch: Any, updates: int, advantage: dict[str, float]) -> dict[str, float]:
    """Each rollout's share of the policy-gradient loss per unit of its GRPO advantage, summed over the mini-batches.

    The batch is split over DP ranks as verl's _balance_batch does, each rank's part into `updates` consecutive
    mini-batches as verl's worker iterates it; verl's vanilla policy loss (token-mean over the mini-batch) is
    differentiated with respect to the tokens' log-probs at ratio 1.
    """
    data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=["advantages", "response_mask"])
    advantages, mask = data["advantages"].to_padded_tensor(0.0), data["response_mask"].to_padded_tensor(0).bool()
    seqlens = torch.tensor([tag["seq_len"] for tag in batch.tags])
    ranks = get_seqlen_balanced_partitions(calculate_workload(seqlens), k_partitions=DP_SIZE, equal_size=True)
    actor = omega_conf_to_dataclass(config.actor_rollout_ref.actor)
    policy_loss = get_policy_loss_fn(actor.policy_loss.get("loss_mode", "vanilla"))
    weights: dict[str, float] = {}
    for update in range(updates):
        rows = [row for rank in ranks for row in rank[update * len(rank) // updates:(update + 1) * len(rank) // updates]]
        log_prob = torch.zeros(len(rows), mask.shape[1], requires_grad=True)
        actor.global_batch_info.update(dp_size=1, batch_num_tokens=int(mask[rows].sum()), global_batch_size=None,
                                       loss_scale_factor=None)
        loss, _ = policy_loss(old_log_prob=torch.zeros_like(log_prob), log_prob=log_prob, advantages=advantages[rows],
                              response_mask=mask[rows], loss_agg_mode=actor.loss_agg_mode, config=actor)
        (gradient,) = torch.autograd.grad(loss, log_prob)
        for position, row in enumerate(rows):
            rollout = rollout_of(batch.keys[row])
            if rollout in advantage:  # not verl's padding
                share = float(gradient[position][mask[row]].abs().sum()) / abs(advantage[rollout])
                weights[rollout] = weights.get(rollout, 0.0) + share
    return weights


def grpo_advantages(batch: Any) -> dict[str, float]:
    """Each rollout's GRPO advantage, as verl computed it (before any weighting)."""
    data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=["advantages"])
    return {rollout_of(key): float(row[0]) for key, row, tag in zip(batch.keys, data["advantages"].unbind(), batch.tags)
            if not tag.get("is_padding") and row.numel()}


def test_a_step_takes_the_papers_updates_and_every_rollout_weighs_the_same(transfer_queue: None) -> None:
    defaults = compose_trainer(dry_run("8b"))
    assert defaults.awm.update_unit == "rollout" and defaults.actor_rollout_ref.actor.loss_agg_mode == "token-mean"
    tasks, n = defaults.data.train_batch_size, defaults.actor_rollout_ref.rollout.n
    batch, generated = put_step(tasks, n)
    samples = len(batch)
    assert samples > 6_000  # 1,024 rollouts of 1 to 12 turns, one sample per turn

    # verl's own behaviour first (awm.update_unit=sample): its advantages are plain GRPO.
    verls = compose_trainer(dry_run("8b", "awm.update_unit=sample"))
    batch, verl_updates = train_step(trainer_for(verls), batch)
    advantage = grpo_advantages(batch)
    assert len(advantage) == tasks * n and all(advantage.values())
    verl_weights = rollout_weights(verls, batch, verl_updates, advantage)
    assert verl_updates == -(-samples // (verls.actor_rollout_ref.actor.ppo_mini_batch_size * n))  # ~ turns / 256
    longest, shortest = max(generated, key=generated.get), min(generated, key=generated.get)
    token_ratio = generated[longest] / generated[shortest]
    assert verl_weights[longest] / verl_weights[shortest] == pytest.approx(token_ratio, rel=0.15)  # weight ~ tokens

    # The defaults: the paper's updates per step, every rollout the same weight.
    trainer = trainer_for(defaults)
    batch, updates = train_step(trainer, batch)
    assert updates == 4 == tasks // defaults.actor_rollout_ref.actor.ppo_mini_batch_size
    weights = rollout_weights(defaults, batch, updates, advantage)
    mean = sum(weights.values()) / len(weights)
    spread = max(weights.values()) / min(weights.values())
    assert len(weights) == tasks * n and mean == pytest.approx(updates / (tasks * n), rel=0.02)  # 1/256 of its update
    assert spread < 1.1  # only a mini-batch's token count varies, and verl balances those over ranks
    print(f"\n{samples} turn samples from {tasks * n} rollouts of {generated[shortest]} to {generated[longest]} tokens."
          f"\n  awm.update_unit=rollout (default): {updates} optimizer updates; rollout loss weight 1/{1 / mean:.1f} of "
          f"its update on average, max/min {spread:.3f}"
          f"\n  awm.update_unit=sample (verl's): {verl_updates} optimizer updates; the longest rollout weighs "
          f"{verl_weights[longest] / verl_weights[shortest]:.1f}x the shortest")

    assert trainer.awm_step_metrics(batch) == pytest.approx({
        "awm_complete": 0.25, "awm_format_error": 0.25, "awm_length_stop": 0.0, "awm_reward": 0.025,
        "awm_optimizer_updates": 4.0, "awm_turns": sum(turns_of(t, r) for t in range(tasks) for r in range(n)) / (tasks * n)})


def test_rollout_metrics_count_each_rollout_once() -> None:
    info = lambda complete, turns: {"reward_extra_info": {"awm_complete": complete, "awm_turns": turns}}  # noqa: E731
    keys = ["u_0_0", "u_0_1", "u_0_2", "u_1_0"]  # a 3-turn rollout and a 1-turn one
    assert rollout_metrics(keys, [info(1.0, 3), info(1.0, 3), info(1.0, 3), info(0.0, 1)]) == {
        "awm_complete": 0.5, "awm_turns": 2.0}
