"""The verl GRPO launchers (recipes/verl/run_qwen3_*_grpo.sh) against the installed verl's own trainer config.

Each launcher prints its Hydra overrides (AWM_DRY_RUN=1); they are composed onto verl's `ppo_trainer` as
`python -m verl.trainer.main_ppo` composes them, checked for the paper's values, resolved, converted to verl's
config dataclasses and run through verl's `validate_config`, so that a renamed key or a value of the wrong type
fails here and not after a GPU job has started. No GPU, network or Ray.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import verl
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf
from verl.trainer.config import AlgoConfig
from verl.trainer.ppo.utils import need_critic, need_reference_policy
from verl.utils.config import omega_conf_to_dataclass, validate_config
from verl.workers.config import FSDPActorConfig, RolloutConfig

from awm_release.training.settings import AWMSettings

REPO = Path(__file__).resolve().parents[1]
RECIPES = REPO / "recipes" / "verl"
VERL_CONFIG_DIR = Path(verl.__file__).parent / "trainer" / "config"

# What each launcher sets: model, vLLM tensor parallel size, nodes, FSDP offload.
SIZES = {
    "4b": ("Qwen/Qwen3-4B", 1, 1, False),
    "8b": ("Qwen/Qwen3-8B", 2, 1, False),
    "14b": ("Qwen/Qwen3-14B", 4, 2, True),
}
# The only sections a launcher may add keys to: everything else must already exist in verl's config, so a
# misspelled verl key cannot hide behind a `+`.
ADDED_SECTIONS = ("awm.", "data.apply_chat_template_kwargs.", "ray_kwargs.ray_init.runtime_env.worker_process_setup_hook=")


def launcher(size: str) -> Path:
    return RECIPES / f"run_qwen3_{size}_grpo.sh"


def run_launcher(size: str, *args: str, path: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """The launcher in a clean environment (the caller's MODEL_PATH or NNODES must not leak in)."""
    clean = {"PATH": path or os.environ["PATH"], **env}
    return subprocess.run(["bash", str(launcher(size)), *args], env=clean, capture_output=True, text=True,
                          timeout=60, check=False)


def dry_run(size: str, *args: str, **env: str) -> list[str]:
    result = run_launcher(size, *args, AWM_DRY_RUN="1", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def compose_trainer(overrides: list[str]) -> DictConfig:
    with initialize_config_dir(config_dir=str(VERL_CONFIG_DIR), version_base=None):
        return compose(config_name="ppo_trainer", overrides=overrides)


@pytest.fixture(scope="module", params=sorted(SIZES))
def launched(request: pytest.FixtureRequest) -> tuple[str, list[str], DictConfig]:
    overrides = dry_run(request.param)
    return request.param, overrides, compose_trainer(overrides)


def test_launchers_are_executable_and_parse() -> None:
    for script in [RECIPES / "common.sh", *(launcher(size) for size in SIZES)]:
        result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{script}: {result.stderr}"
    assert all(os.access(launcher(size), os.X_OK) for size in SIZES)


def test_paper_settings_land_in_verl_config(launched: tuple[str, list[str], DictConfig]) -> None:
    size, _, config = launched
    model, tensor_parallel, nodes, offload = SIZES[size]
    actor, rollout = config.actor_rollout_ref.actor, config.actor_rollout_ref.rollout

    assert config.trainer.use_v1 is True and config.trainer.v1.trainer_mode == "sync"
    assert config.algorithm.adv_estimator == "grpo" and config.algorithm.use_kl_in_reward is False
    assert actor.optim.lr == 7e-7
    assert config.data.train_batch_size == 64 and actor.ppo_mini_batch_size == 16
    assert rollout.n == 16 and config.data.train_batch_size * rollout.n == 1024
    assert config.trainer.total_training_steps == 96
    assert (actor.use_kl_loss, actor.kl_loss_coef, actor.kl_loss_type) == (True, 0.001, "low_var_kl")
    assert actor.entropy_coeff == 0
    assert (actor.clip_ratio_low, actor.clip_ratio_high) == (0.2, 0.28)
    assert rollout.temperature == 1.0
    assert (rollout.prompt_length, rollout.response_length) == (32768 - 2048, 2048)
    assert rollout.max_model_len == 32768 == rollout.prompt_length + rollout.response_length
    assert actor.use_dynamic_bsz and actor.ppo_max_token_len_per_gpu >= rollout.max_model_len
    assert rollout.multi_turn.enable is True and rollout.multi_turn.max_assistant_turns == 20
    assert rollout.name == "vllm" and rollout.mode == "async"
    assert config.data.return_raw_chat is True
    assert config.data.apply_chat_template_kwargs.enable_thinking is True
    assert rollout.agent.default_agent_loop == "awm_agent"
    assert rollout.agent.agent_loop_config_path == str(RECIPES / "config" / "awm_agent_loop.yaml")
    data_dir = REPO / "data" / "verl" / "envs-v1.0.0"
    assert OmegaConf.to_container(config.awm) == {
        "history_window": 3, "verify_mode": "code", "update_unit": "rollout", "max_tool_result_chars": 16000,
        "dataset": "awm/envs", "revision": "v1.0.0", "release_dir": str(data_dir / "release"), "trust_remote_code": False, "env_server_url": None,
        "server_workers": 16, "judge_base_url": None, "judge_model": None, "session_concurrency": 64,
    }
    assert config.data.train_files == str(data_dir / "train.parquet")
    assert config.data.val_files == str(data_dir / "validation.parquet")
    assert list(config.trainer.logger) == ["console"] and config.trainer.resume_mode == "auto"  # wandb is opt-in
    # The old-log-prob and reference passes hold tokens x vocabulary logits: 32k x 151,936 x 2 bytes = 10 GB.
    assert actor.ppo_max_token_len_per_gpu == 32768
    experiment = f"qwen3-{size}-grpo-w3-code"
    assert (config.trainer.project_name, config.trainer.experiment_name) == ("awm", experiment)
    assert config.trainer.default_local_dir == str(REPO / "checkpoints" / "awm" / experiment)

    assert actor_model_settings(config) == (model, tensor_parallel, nodes, offload)


def actor_model_settings(config: DictConfig) -> tuple[str, int, int, bool]:
    ref = config.actor_rollout_ref
    offloads = {ref.actor.fsdp_config.param_offload, ref.actor.fsdp_config.optimizer_offload,
                ref.ref.fsdp_config.param_offload}
    assert len(offloads) == 1, "actor parameters, optimizer state and the reference offload together"
    return ref.model.path, ref.rollout.tensor_model_parallel_size, config.trainer.nnodes, offloads.pop()


def test_config_passes_verl_checks(launched: tuple[str, list[str], DictConfig]) -> None:
    """What main_ppo does before Ray starts, then what its workers do: validate, resolve, build dataclasses."""
    _, _, config = launched
    assert need_reference_policy(config), "the KL loss needs the reference model"
    with pytest.warns(UserWarning, match="Disabled critic"):
        assert not need_critic(config), "GRPO trains no critic"
    validate_config(config, use_reference_policy=True, use_critic=False)
    OmegaConf.resolve(OmegaConf.create(OmegaConf.to_container(config)))

    actor, rollout, algorithm = built_sections(config)
    assert isinstance(actor, FSDPActorConfig) and actor.optim.lr == 7e-7 and actor.rollout_n == 16
    assert isinstance(rollout, RolloutConfig) and rollout.multi_turn.max_assistant_turns == 20
    assert rollout.agent.agent_loop_config_path == str(RECIPES / "config" / "awm_agent_loop.yaml")
    assert isinstance(algorithm, AlgoConfig) and algorithm.adv_estimator == "grpo"


def built_sections(config: DictConfig) -> list[Any]:
    """actor, rollout and algorithm as verl builds them (through `_target_`), with their field types checked."""
    built = []
    for section in ("actor_rollout_ref.actor", "actor_rollout_ref.rollout", "algorithm"):
        instance = omega_conf_to_dataclass(OmegaConf.select(config, section))
        assert not (wrong := mistyped_fields(instance, section)), f"values of the wrong type: {wrong}"
        built.append(instance)
    return built


def mistyped_fields(instance: Any, where: str) -> list[str]:
    """Scalar fields whose value is not of the annotated type: hydra's instantiate, which verl uses, does not check.

    None passes where the dataclass itself defaults to None (verl fills such engine fields at run time).
    """
    wrong = []
    hints = typing.get_type_hints(type(instance))
    for field in dataclasses.fields(instance):
        value, name = getattr(instance, field.name), f"{where}.{field.name}"
        if dataclasses.is_dataclass(value):
            wrong += mistyped_fields(value, name)
            continue
        allowed = scalar_types(hints.get(field.name))
        if allowed and not isinstance(value, allowed) and not (value is None and field.default is None):
            wrong.append(f"{name}={value!r}")
    return wrong


def scalar_types(annotation: Any) -> tuple[type, ...] | None:
    """The types a scalar annotation admits (an int where a float is wanted too); None for other annotations."""
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    members = set(typing.get_args(annotation) if union else (annotation,))
    if not members <= {int, float, bool, str, type(None)}:
        return None
    return tuple(members | ({int} if float in members else set()))


def test_awm_section_matches_the_registered_agent_loop(launched: tuple[str, list[str], DictConfig]) -> None:
    _, overrides, config = launched
    agent = config.actor_rollout_ref.rollout.agent
    entries = OmegaConf.load(agent.agent_loop_config_path)  # as verl reads it
    loop = next(entry for entry in entries if entry["name"] == agent.default_agent_loop)
    assert loop["_target_"] == "awm_release.training.agent_loop.AWMAgentLoop"
    settings = set(loop) - {"name", "_target_"}
    assert set(config.awm) == settings == set(AWMSettings.__dataclass_fields__), "one list of AWM settings"
    defaults = {key: loop[key] for key in settings}
    AWMSettings.resolve(defaults, OmegaConf.to_container(config.awm))  # the launcher's values pass the loop's checks

    added = [override for override in overrides if override.startswith("+")]
    assert added and all(override[1:].startswith(ADDED_SECTIONS) for override in added), added


@pytest.mark.parametrize(("right", "renamed"), [
    ("actor_rollout_ref.actor.optim.lr=", "actor_rollout_ref.actor.optim.learning_rate="),
    ("rollout.multi_turn.max_assistant_turns=", "rollout.multi_turn.max_turns="),
    ("actor_rollout_ref.actor.clip_ratio_high=", "actor_rollout_ref.actor.clip_high="),
])
def test_renamed_key_fails_composition(right: str, renamed: str) -> None:
    overrides = dry_run("8b")
    renamed_overrides = [override.replace(right, renamed) for override in overrides]
    assert renamed_overrides != overrides
    with pytest.raises(ConfigCompositionException, match="Could not override"):
        compose_trainer(renamed_overrides)


@pytest.mark.parametrize("wrong", [
    "actor_rollout_ref.actor.optim.lr='fast'",
    "actor_rollout_ref.rollout.multi_turn.max_assistant_turns='twenty'",
    "algorithm.kl_ctrl.kl_coef='small'",
])
def test_wrong_type_fails_the_section_check(wrong: str) -> None:
    config = compose_trainer(dry_run("8b", wrong))  # composes: verl's yaml carries no types
    with pytest.raises(AssertionError, match=f"values of the wrong type: \\[\"{re.escape(wrong)}\"\\]"):
        built_sections(config)


@pytest.mark.parametrize("key, value", [
    ("history_window", "5"), ("env_server_url", "'http://10.0.0.7:8000'"), ("judge_model", "Qwen/Qwen3-32B"),
    ("update_unit", "sample"), ("server_workers", "4"), ("revision", "v1.1.0"),
])
def test_every_awm_setting_changes_without_a_plus(key: str, value: str) -> None:
    config = compose_trainer(dry_run("8b", f"awm.{key}={value}"))
    assert str(config.awm[key]) == value.strip("'")


def test_extra_arguments_come_last_and_win() -> None:
    extra = ["trainer.save_freq=8", "awm.history_window=5", "actor_rollout_ref.actor.optim.lr=1e-6"]
    overrides = dry_run("8b", *extra)
    assert overrides[-3:] == extra and overrides[:-3] == dry_run("8b")
    config = compose_trainer(overrides)
    assert config.trainer.save_freq == 8 and config.awm.history_window == 5
    assert config.actor_rollout_ref.actor.optim.lr == 1e-6


def test_environment_variables_reach_the_config(tmp_path: Path) -> None:
    data_dir = tmp_path / "my data, v2"
    config = compose_trainer(dry_run(
        "4b", HISTORY_WINDOW="all", VERIFY_MODE="sql", AWM_DATASET="awm/envs", AWM_REVISION="1e10",
        JUDGE_BASE_URL="http://judge:8001/v1", JUDGE_MODEL="Qwen/Qwen3-32B", UPDATE_UNIT="sample",
        SERVER_WORKERS="8", MAX_TOOL_RESULT_CHARS="0", DATA_DIR=str(data_dir), NNODES="2", LR="1e-6",
        MODEL_PATH="/models/it's mine", LOGGER="console,wandb", EXPERIMENT_NAME="probe"))
    assert OmegaConf.to_container(config.awm) == {
        "history_window": "all", "verify_mode": "sql", "update_unit": "sample", "max_tool_result_chars": 0,
        "dataset": "awm/envs", "revision": "1e10", "release_dir": str(data_dir / "release"), "trust_remote_code": False, "env_server_url": None,
        "server_workers": 8, "judge_base_url": "http://judge:8001/v1", "judge_model": "Qwen/Qwen3-32B",
        "session_concurrency": 64,
    }
    assert config.data.train_files == str(data_dir / "train.parquet")
    assert config.actor_rollout_ref.model.path == "/models/it's mine"
    assert (config.trainer.nnodes, config.actor_rollout_ref.actor.optim.lr, list(config.trainer.logger)) == (
        2, 1e-6, ["console", "wandb"])
    assert config.trainer.default_local_dir == str(REPO / "checkpoints" / "awm" / "probe")

    release = tmp_path / "awm envs, local"
    release.mkdir()
    local = compose_trainer(dry_run("4b", AWM_DATASET=str(release), AWM_REVISION="",
                                    AWM_ENV_SERVER_URL="http://10.0.0.7:8000"))
    assert (local.awm.revision, local.awm.release_dir, local.awm.env_server_url) == (
        None, str(release), "http://10.0.0.7:8000")  # a local release is served where it is
    assert local.data.train_files == str(REPO / "data" / "verl" / "awm envs, local-local" / "train.parquet")


def test_launchers_differ_only_in_size_settings() -> None:
    size_keys = {
        "actor_rollout_ref.model.path", "actor_rollout_ref.rollout.tensor_model_parallel_size", "trainer.nnodes",
        "actor_rollout_ref.rollout.gpu_memory_utilization", "actor_rollout_ref.actor.ppo_max_token_len_per_gpu",
        "actor_rollout_ref.actor.fsdp_config.param_offload", "actor_rollout_ref.actor.fsdp_config.optimizer_offload",
        "actor_rollout_ref.ref.fsdp_config.param_offload",
        # named after the model
        "trainer.experiment_name", "trainer.default_local_dir", "hydra.run.dir",
    }
    listed = {size: dict(override.split("=", 1) for override in dry_run(size)) for size in SIZES}
    assert len({tuple(overrides) for overrides in listed.values()}) == 1, "same keys, in the same order"
    differing = {key for key in listed["8b"] if len({listed[size][key] for size in SIZES}) > 1}
    assert differing <= size_keys and "actor_rollout_ref.model.path" in differing


def test_launch_writes_missing_data_then_runs_verl(tmp_path: Path) -> None:
    """The real launch path, with `awm` and the interpreter replaced by recorders (verl itself needs GPUs)."""
    bin_dir, data_dir, log = tmp_path / "bin", tmp_path / "data", tmp_path / "calls"
    bin_dir.mkdir()
    (bin_dir / "awm").write_text(
        '#!/usr/bin/env bash\necho "awm $*" >> "$CALLS"\n'
        'out=${@: -4:1}; mkdir -p "$out/release"; touch "$out/train.parquet" "$out/validation.parquet" '
        '"$out/release/manifest.json"\n')
    (bin_dir / "fake-python").write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@" >> "$CALLS"\n')
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    path = f"{bin_dir}:{os.environ['PATH']}"

    refused = run_launcher("8b", path=path, CALLS=str(log), DATA_DIR=str(data_dir), PYTHON="fake-python")
    assert refused.returncode == 2 and "set TRUST_REMOTE_CODE=1 once you trust it" in refused.stderr
    assert not log.exists(), "nothing is downloaded or run without consent"
    for _ in range(2):
        result = run_launcher("8b", "trainer.save_freq=8", path=path, CALLS=str(log), DATA_DIR=str(data_dir),
                              PYTHON="fake-python", TRUST_REMOTE_CODE="1")
        assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    expected_verl = ["-m", "verl.trainer.main_ppo", *dry_run("8b", "trainer.save_freq=8", DATA_DIR=str(data_dir),
                                                             TRUST_REMOTE_CODE="1")]
    assert calls == [f"awm train data --dataset awm/envs --revision v1.0.0 --out {data_dir} --release-dir "
                     f"{data_dir}/release --trust-remote-code", *expected_verl, *expected_verl], \
        "data is written once, before the first run"


def test_launcher_refuses_settings_that_fail_late() -> None:
    result = run_launcher("8b", AWM_DRY_RUN="1", MAX_TOKENS_PER_GPU="16384")
    assert result.returncode == 2 and "MAX_TOKENS_PER_GPU=16384 is below MAX_MODEL_LEN=32768" in result.stderr
    result = run_launcher("8b", AWM_DRY_RUN="1", VERIFY_MODE="sql")
    assert result.returncode == 2 and "VERIFY_MODE=sql needs an LLM judge for the env servers" in result.stderr
    result = subprocess.run(["bash", str(RECIPES / "common.sh")], env={"PATH": os.environ["PATH"]},
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "MODEL_PATH is not set; run a launcher" in result.stderr
