"""recipes/verl/gpu_smoke.sh without a GPU: its dry run composes with verl's config, a node without what it needs is
refused with the list of what to install, and its verdict (awm_release.training.smoke_check) reads verl's log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from verl.utils.config import validate_config

from awm_release.training.smoke_check import main as smoke_check_main
from awm_release.training.smoke_check import smoke_checks
from tests.test_verl_config import RECIPES, built_sections, compose_trainer

SMOKE = RECIPES / "gpu_smoke.sh"


def run_smoke(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PYTHON": sys.executable,
             "SMOKE_DIR": str(tmp_path / "smoke"), **env}
    return subprocess.run(["bash", str(SMOKE)], env=clean, capture_output=True, text=True, timeout=120, check=False)


def test_the_dry_run_is_a_valid_verl_config_of_the_smoke_run(tmp_path: Path) -> None:
    result = run_smoke(tmp_path, AWM_DRY_RUN="1")
    assert result.returncode == 0, result.stderr
    assert "2 GRPO steps of Qwen/Qwen3-0.6B on 1 GPU" in result.stderr
    config = compose_trainer(result.stdout.splitlines())
    validate_config(config, use_reference_policy=True, use_critic=False)
    actor, rollout, _ = built_sections(config)
    assert (config.trainer.n_gpus_per_node, config.trainer.nnodes, config.trainer.total_training_steps) == (1, 1, 2)
    assert (config.data.train_batch_size, rollout.n, rollout.multi_turn.max_assistant_turns) == (4, 4, 4)
    assert list(config.trainer.logger) == ["console"] and rollout.calculate_log_probs and rollout.enforce_eager
    assert config.actor_rollout_ref.model.path == "Qwen/Qwen3-0.6B" and config.trainer.val_before_train is False
    assert config.awm.release_dir == str(tmp_path / "smoke" / "release") and config.awm.server_workers == 2
    assert actor.ppo_max_token_len_per_gpu >= rollout.max_model_len
    assert not (tmp_path / "smoke").exists()  # a dry run writes nothing


def test_a_node_without_gpu_vllm_or_model_is_refused_with_what_to_install(tmp_path: Path) -> None:
    result = run_smoke(tmp_path)
    assert result.returncode == 2
    assert "missing: a GPU (nvidia-smi lists none)" in result.stderr
    assert "missing: the Python package vllm" in result.stderr and "pip install" in result.stderr
    assert "missing: the model Qwen/Qwen3-0.6B in the Hugging Face cache (hf download Qwen/Qwen3-0.6B)" in result.stderr
    assert "FAIL before starting" in result.stderr


def step_line(step: int, turns: float, loss: str, diff: float) -> str:
    """One step as verl's console logger prints it from the TaskRunner actor."""
    return (f"(TaskRunnerV1 pid=4242) step:{step} - actor/pg_loss:{loss} - awm_turns:{turns} - "
            f"training/rollout_probs_diff_mean:{diff} - timing_s/gen:12.5")


def test_the_verdict_reads_verls_console_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = "\n".join(["Training Progress: 0%", step_line(1, 2.75, "-0.013", 0.004), step_line(2, 3.0, "0.021", 0.006)])
    assert all(check.ok for check in smoke_checks(good, steps=2))
    log = tmp_path / "run.log"
    log.write_text(good)
    assert smoke_check_main([str(log)]) == 0 and "GPU smoke check: PASS" in capsys.readouterr().out

    bad = "\n".join([step_line(1, 1.0, "nan", 0.3), "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate"])
    failed = {check.name for check in smoke_checks(bad, steps=2) if not check.ok}
    assert failed == {"2 steps logged", "mean turns > 1", "finite policy loss", "rollout and actor log-probs agree",
                      "no out-of-memory"}
    log.write_text(bad)
    assert smoke_check_main([str(log)]) == 1 and "GPU smoke check: FAIL" in capsys.readouterr().out
