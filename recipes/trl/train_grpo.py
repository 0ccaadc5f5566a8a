"""GRPO on AWM environments with TRL: Qwen3 against an awm-serve, the paper's settings where TRL has them.

Run it with `recipes/trl/run_qwen3_grpo.sh` (which prepares the data, starts awm-serve and runs this under
`accelerate launch`), or directly once both exist:

    accelerate launch --num_processes 8 recipes/trl/train_grpo.py --data data/trl --server http://127.0.0.1:8000
    python recipes/trl/train_grpo.py --data data/trl --server http://127.0.0.1:8000 --dry-run   # check, train nothing

A step is the paper's: 64 tasks x 16 rollouts = 1,024 rollouts generated together (vLLM, colocated), then 4
optimizer updates of 256 rollouts, each rollout weighing the same (TRL's loss_type "grpo"); lr 7e-7, KL 0.001
(TRL's k3 estimator, verl's low_var_kl), clip 0.2 / 0.28, temperature 1.0, thinking on, 96 steps. Unlike the
verl recipe, TRL trains on the whole conversation (no history window): every turn and tool result of a rollout
is one sequence, tool results masked out of the loss.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

PAPER_ROLLOUTS_PER_UPDATE = 256  # 16 tasks x 16 rollouts
PAPER_UPDATES_PER_STEP = 4  # 64 tasks per step / 16 per update


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="Qwen/Qwen3-4B", help="Hub id or local folder of the policy (default: %(default)s)")
    parser.add_argument("--data", type=Path, required=True,
                        help="folder with train.parquet from `awm train data --format trl`")
    parser.add_argument("--server", default="http://127.0.0.1:8000", help="the awm-serve serving the release (default: %(default)s)")
    parser.add_argument("--output-dir", type=Path, default=Path("checkpoints/awm-trl"), help="checkpoints (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=96, help="GRPO steps of 1,024 rollouts (default: %(default)s)")
    parser.add_argument("--rollouts-per-gpu", type=int, default=4,
                        help="rollouts per GPU per forward/backward pass; lower it if training runs out of memory")
    parser.add_argument("--max-completion-length", type=int, default=16384,
                        help="tokens of a whole rollout: every turn and tool result (default: %(default)s)")
    parser.add_argument("--max-turns", type=int, default=20, help="tool-calling turns per rollout (default: %(default)s)")
    parser.add_argument("--verify-mode", choices=("code", "sql"), default="code",
                        help="code: verifier code; sql: the server's LLM judge (awm-serve --judge-*)")
    parser.add_argument("--vllm-gpu-memory", type=float, default=0.35,
                        help="share of each GPU for the colocated vLLM (default: %(default)s)")
    parser.add_argument("--report-to", default="none", help="none, wandb, tensorboard, ... (default: %(default)s)")
    parser.add_argument("--gpus", type=int, default=int(os.environ.get("WORLD_SIZE", "1")),
                        help="GPUs of the run (accelerate launch sets WORLD_SIZE; say it for --dry-run)")
    parser.add_argument("--dry-run", action="store_true",
                        help="check the data, the server and the settings; load no model and train nothing")
    return parser.parse_args(argv)


def grpo_config(args: argparse.Namespace, processes: int):  # noqa: ANN201 - trl is imported late
    """The paper's step on `processes` GPUs: 1,024 rollouts per generation, 4 updates of 256 rollouts each."""
    from trl import GRPOConfig  # noqa: PLC0415

    per_pass = args.rollouts_per_gpu * processes
    if PAPER_ROLLOUTS_PER_UPDATE % per_pass:
        sys.exit(f"--rollouts-per-gpu {args.rollouts_per_gpu} x {processes} GPU(s) must divide "
                 f"{PAPER_ROLLOUTS_PER_UPDATE}, the rollouts of one update")
    accumulation = PAPER_ROLLOUTS_PER_UPDATE // per_pass
    return GRPOConfig(
        output_dir=str(args.output_dir), max_steps=args.steps * PAPER_UPDATES_PER_STEP,
        per_device_train_batch_size=args.rollouts_per_gpu, gradient_accumulation_steps=accumulation,
        steps_per_generation=accumulation * PAPER_UPDATES_PER_STEP, num_generations=16,
        learning_rate=7e-7, lr_scheduler_type="constant", beta=0.001, epsilon=0.2, epsilon_high=0.28,
        loss_type="grpo", temperature=1.0, max_completion_length=args.max_completion_length,
        max_tool_calling_iterations=args.max_turns, chat_template_kwargs={"enable_thinking": True},
        use_vllm=True, vllm_mode="colocate", vllm_gpu_memory_utilization=args.vllm_gpu_memory,
        bf16=not args.dry_run, use_cpu=args.dry_run,  # a dry run builds the same config where there is no GPU
        gradient_checkpointing=True, logging_steps=1, save_steps=16 * PAPER_UPDATES_PER_STEP,
        report_to=args.report_to, log_completions=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # environment_factory is marked experimental in TRL 1.x
    from datasets import load_dataset  # noqa: PLC0415

    from awm_release.training.trl_env import awm_environment_factory, awm_reward_function  # noqa: PLC0415

    train_file = args.data / "train.parquet"
    if not train_file.is_file():
        sys.exit(f"{train_file} is missing: write it with `awm train data --format trl --out {args.data} ...`")
    rows = load_dataset("parquet", data_files=str(train_file), split="train")
    if not {"prompt", "bundle_id", "task_idx"} <= set(rows.column_names):
        sys.exit(f"{train_file} has columns {rows.column_names}; write it with `awm train data --format trl`")
    environment = awm_environment_factory(args.server, verify_mode=args.verify_mode)  # fails here if unreachable
    config = grpo_config(args, args.gpus)
    if args.dry_run:
        rollouts = config.per_device_train_batch_size * args.gpus * config.steps_per_generation
        print(json.dumps({"tasks": len(rows), "server": args.server, "gpus": args.gpus, "rollouts_per_step": rollouts,
                          "updates_per_step": config.steps_per_generation // config.gradient_accumulation_steps,
                          "optimizer_steps": config.max_steps, "loss_type": config.loss_type,
                          "learning_rate": config.learning_rate, "beta": config.beta}))
        return

    from transformers import AutoTokenizer  # noqa: PLC0415
    from trl import GRPOTrainer  # noqa: PLC0415

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    trainer = GRPOTrainer(model=args.model, args=config, train_dataset=rows, processing_class=tokenizer,
                          environment_factory=environment, reward_funcs=awm_reward_function(tokenizer))
    trainer.train()
    trainer.save_model(str(args.output_dir / "final"))


if __name__ == "__main__":
    main()
