"""Real GRPO steps on a CPU through TRL: a tiny Qwen3 built here, AWMEnvironment sessions on a real awm-serve.

The model has Qwen3's architecture with random weights (a few million parameters) and the local Qwen3-style
tokenizer (Qwen3's real chat template; BPE merges learned here from the prompts, for short sequences). A random model never writes a well-formed tool call, so decoding is
steered, through TRL's `generation_kwargs`, by Hugging Face's `sequence_bias`: after the task it favours one
scripted turn (think, then `call_tool(cancel_order, ...)`, the demo task's solution) and after the tool result a
scripted answer. Sampling still decides every token, so some rollouts follow the script and complete the task,
and others stray into malformed calls, which is exactly the spread GRPO needs. Everything after generation is
TRL's and ours unchanged: tool calls parsed from the generated text and run in the rollout's session, the
session verified for the reward, advantages, the loss and two optimizer steps.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from datasets import Dataset
from transformers import Qwen3Config, Qwen3ForCausalLM
from transformers.utils import get_json_schema
from trl import GRPOConfig, GRPOTrainer

from awm_release.agent.protocol import META_TOOLS, SYSTEM_PROMPT
from awm_release.agent.tasks import TaskRef
from awm_release.demo import load_demo_bundle
from awm_release.training.data import trl_rows
from awm_release.training.trl_env import AWMEnvironment, awm_environment_factory, awm_reward_function
from tests.conftest import RunningServer, run_server
from tests.qwen3_style_tokenizer import build_tokenizer

BUNDLE, TASK = "bookstore_1", 5  # "Cancel my order that contains the hardcover of 'Piranesi' ..."
CALL = {"name": "call_tool", "arguments": {"tool_name": "cancel_order",
                                           "arguments": {"order_id": 6, "reason": "Found a copy at my local library"}}}
FIRST_TURN = f"<think>\nCancel order 6.\n</think>\n\n<tool_call>\n{json.dumps(CALL)}\n</tool_call><|im_end|>"
ANSWER_TURN = "<think>\nDone.\n</think>\n\nYour order is cancelled.<|im_end|>"
SCRIPT_BIAS, END_BIAS = 11.0, 4.0  # a scripted token ~99.6% likely; a stray completion ends within a few tokens
ROLLOUTS = 8  # per step, one GRPO group: about half follow the script, so a group without a spread is rare


@pytest.fixture(scope="module")
def demo_server() -> Iterator[RunningServer]:
    yield from run_server([BUNDLE, "--workers", "1"])


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Torch on one thread: the machine's cores are shared, and oversubscribed threads make CPU generation crawl."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def tiny_qwen3(vocab_size: int, pad: int, eos: int) -> Qwen3ForCausalLM:
    torch.manual_seed(0)
    config = Qwen3Config(vocab_size=vocab_size, hidden_size=256, intermediate_size=768, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=64, max_position_embeddings=4096,
                         tie_word_embeddings=True, pad_token_id=pad, eos_token_id=eos)
    return Qwen3ForCausalLM(config)


def scripted_bias(tokenizer: Any, prompt: list[dict[str, str]]) -> list[list[Any]]:
    """sequence_bias entries that spell each scripted turn after its context (the task, or a tool result)."""
    encode = lambda text: tokenizer.encode(text, add_special_tokens=False)  # noqa: E731
    after_task = tokenizer.apply_chat_template(prompt, tools=META_TOOLS, add_generation_prompt=True, tokenize=True,
                                               return_dict=False)[-6:]
    after_tool = encode("</tool_response><|im_end|>\n<|im_start|>assistant\n")
    entries = [[context + turn[:k], SCRIPT_BIAS] for context, turn in ((after_task, encode(FIRST_TURN)),
                                                                      (after_tool, encode(ANSWER_TURN)))
               for k in range(1, len(turn) + 1)]
    return [*entries, [[tokenizer.eos_token_id], END_BIAS]]


def test_the_environment_exposes_the_protocols_meta_tools() -> None:
    assert [get_json_schema(method) for method in (AWMEnvironment.list_tools, AWMEnvironment.call_tool)] == META_TOOLS


def test_two_grpo_steps_through_trl_on_awm_sessions(demo_server: RunningServer, tmp_path: Path, one_thread: None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.perf_counter()
    monkeypatch.setenv("TRL_EXPERIMENTAL_SILENCE", "1")  # environment_factory is marked experimental in TRL 1.x
    task = load_demo_bundle(BUNDLE).tasks[TASK]
    rows = trl_rows([TaskRef(BUNDLE, TASK, task)])  # what `awm train data --format trl` writes
    tokenizer = build_tokenizer(tmp_path / "tokenizer", corpus=[SYSTEM_PROMPT, json.dumps(META_TOOLS), task,
                                                                FIRST_TURN, ANSWER_TURN])
    model = tiny_qwen3(len(tokenizer), tokenizer.pad_token_id, tokenizer.eos_token_id)
    assert 1_000_000 < sum(p.numel() for p in model.parameters()) < 5_000_000
    before = {name: p.detach().clone() for name, p in model.named_parameters()}

    environments: list[AWMEnvironment] = []
    factory = awm_environment_factory(demo_server.url, tools_in_prompt=False, max_tool_result_chars=200)

    def environment() -> AWMEnvironment:
        environments.append(factory())
        return environments[-1]

    scored: list[tuple[float, dict[str, Any] | None]] = []
    reward = awm_reward_function(tokenizer)

    def awm_reward(**kwargs: Any) -> list[float]:  # the library's reward, recording what it verified
        rewards = reward(**kwargs)
        scored.extend(zip(rewards, [env.last_verification for env in kwargs["environments"]], strict=True))
        return rewards

    args = GRPOConfig(output_dir=str(tmp_path / "run"), max_steps=2, per_device_train_batch_size=ROLLOUTS,
                      num_generations=ROLLOUTS,
                      gradient_accumulation_steps=1, learning_rate=1e-3, max_completion_length=640,
                      max_tool_calling_iterations=3, temperature=1.0, seed=0, logging_steps=1, save_strategy="no",
                      report_to="none", use_cpu=True, dataloader_num_workers=0, bf16=False,
                      generation_kwargs={"sequence_bias": scripted_bias(tokenizer, rows[0]["prompt"])})
    trainer = GRPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                          environment_factory=environment, reward_funcs=awm_reward)
    trained = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - trained

    steps = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(steps) == 2 and all(math.isfinite(entry["loss"]) for entry in steps)
    assert any(not torch.equal(before[name], p) for name, p in model.named_parameters()), "no optimizer step"
    assert all(entry["tools/call_frequency"] > 0 for entry in steps)  # the model's calls ran in the sessions

    episodes = len(scored)
    assert episodes == 2 * ROLLOUTS == sum(env.sessions_opened for env in environments)  # a session per rollout
    assert demo_server.client.get("/health").json()["sessions"] == 0  # every one closed after its reward
    for value, verification in scored:  # -1 for a format error (never verified), else the verification's reward
        assert value == (-1.0 if verification is None else verification["reward"])
    rewards = [value for value, _ in scored]
    assert -1.0 in rewards and 1.0 in rewards  # format errors and completed tasks: GRPO had something to learn
    assert [entry["reward"] for entry in steps] == pytest.approx([sum(rewards[:ROLLOUTS]) / ROLLOUTS,
                                                                  sum(rewards[ROLLOUTS:]) / ROLLOUTS])
    step_times = [entry["step_time"] for entry in steps]
    print(f"\nTRL GRPO on CPU: test {time.perf_counter() - started:.1f} s, training {train_s:.1f} s, steps "
          f"{', '.join(f'{t:.1f}' for t in step_times)} s, {episodes / train_s:.2f} episodes/s, rewards {rewards}")


RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "trl"


def test_the_gpu_recipe_checks_its_data_server_and_the_papers_step_without_a_gpu(
        demo_server: RunningServer, tmp_path: Path) -> None:
    task = load_demo_bundle(BUNDLE).tasks[TASK]
    Dataset.from_list(trl_rows([TaskRef(BUNDLE, TASK, task)])).to_parquet(tmp_path / "train.parquet")
    done = subprocess.run([sys.executable, str(RECIPE / "train_grpo.py"), "--data", str(tmp_path), "--server",
                           demo_server.url, "--gpus", "8", "--dry-run"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "tasks": 1, "server": demo_server.url, "gpus": 8, "rollouts_per_step": 1024, "updates_per_step": 4,
        "optimizer_steps": 384, "loss_type": "grpo", "learning_rate": 7e-7, "beta": 0.001}
    missing = subprocess.run([sys.executable, str(RECIPE / "train_grpo.py"), "--data", str(tmp_path / "none"),
                              "--dry-run"], capture_output=True, text=True, timeout=300)
    assert missing.returncode == 1 and "write it with `awm train data --format trl" in missing.stderr

    launch = subprocess.run(["bash", str(RECIPE / "run_qwen3_grpo.sh"), "--steps", "8"], capture_output=True, text=True,
                            env={"PATH": os.environ["PATH"], "AWM_DRY_RUN": "1", "DATA_DIR": str(tmp_path)}, timeout=60)
    assert launch.stdout.splitlines() == [
        f"awm train data --dataset awm/envs --revision v1.0.0 --out {tmp_path} --format trl --release-dir {tmp_path}/release --trust-remote-code",
        f"awm-serve --dataset {tmp_path}/release --workers 16 --host 127.0.0.1 --port 8000 --log-level warning",
        f"accelerate launch --num_processes 8 {RECIPE}/train_grpo.py --model Qwen/Qwen3-4B --data {tmp_path} "
        "--server http://127.0.0.1:8000 --gpus 8 --steps 8"]
