"""Releasing a model trained with the verl recipes: the final FSDP checkpoint -> a Hugging Face model folder
(verl's own merger), its model card, and one commit on a Hub model repo.

    CKPT_ROOT/                            trainer.default_local_dir of the run
      latest_checkpointed_iteration.txt   the last complete save (verl writes it after the save)
      global_step_N/actor/                FSDP shards model_world_size_W_rank_R.pt, fsdp_config.json, huggingface/
      .hydra/config.yaml                  the run's config, when the launcher sets hydra.run.dir=CKPT_ROOT

Each step can be redone alone: `merge_checkpoint` (minutes, once), `render_model_card`, and
`plan_model_push` + `execute_push` (the dataset release's executor: plan first, one commit, and an optional
version tag that is never moved).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awm_release.agent.results import CONFIG_FILE, SUMMARY_FILE
from awm_release.release.card import CARD_FILE, render_repo_card
from awm_release.release.errors import ReleaseError, first_line
from awm_release.release.load import is_hub_repo_id
from awm_release.release.manifest import normalize_version
from dataset_cards import TEMPLATES

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from awm_release.release.publish import PushPlan

DEFAULT_TEMPLATE = TEMPLATES / "awm-model.md.j2"
DEFAULT_LICENSE = "apache-2.0"  # the Qwen3 models' license
REPO_TYPE = "model"
MERGER = "verl.model_merger"
FSDP_CONFIG = "fsdp_config.json"
TRACKER = "latest_checkpointed_iteration.txt"
HYDRA_CONFIG = Path(".hydra") / "config.yaml"
MODEL_PATH_KEY = "actor_rollout_ref.model.path"
MAX_TURNS_KEY = "actor_rollout_ref.rollout.multi_turn.max_assistant_turns"
# The run's settings a card reports, as verl 0.9 names them; keys a config lacks or leaves null are skipped.
TRAINING_KEYS = (
    "algorithm.adv_estimator", "algorithm.norm_adv_by_std_in_grpo",
    "data.train_batch_size", "actor_rollout_ref.rollout.n", "actor_rollout_ref.actor.ppo_mini_batch_size",
    "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu", "actor_rollout_ref.actor.ppo_epochs",
    "trainer.total_epochs", "trainer.total_training_steps",
    "actor_rollout_ref.actor.optim.lr", "actor_rollout_ref.actor.optim.lr_warmup_steps_ratio",
    "actor_rollout_ref.actor.optim.weight_decay", "actor_rollout_ref.actor.grad_clip",
    "actor_rollout_ref.actor.loss_agg_mode", "actor_rollout_ref.actor.clip_ratio_low",
    "actor_rollout_ref.actor.clip_ratio_high", "actor_rollout_ref.actor.clip_ratio_c",
    "actor_rollout_ref.actor.use_kl_loss", "actor_rollout_ref.actor.kl_loss_coef", "actor_rollout_ref.actor.kl_loss_type",
    "algorithm.use_kl_in_reward", "algorithm.kl_ctrl.kl_coef", "actor_rollout_ref.actor.entropy_coeff",
    "actor_rollout_ref.rollout.temperature", "actor_rollout_ref.rollout.top_p",
    "data.max_prompt_length", "data.max_response_length",
    "actor_rollout_ref.rollout.max_model_len", "data.apply_chat_template_kwargs.enable_thinking",
    MAX_TURNS_KEY, "actor_rollout_ref.rollout.multi_turn.max_user_turns",
    "actor_rollout_ref.rollout.name", "trainer.nnodes", "trainer.n_gpus_per_node",
)
AWM_SECTION = "awm"  # every key of the AWM agent loop's section is reported, except how its servers were reached
AWM_SERVING_KEYS = frozenset({"env_server_url", "session_concurrency", "release_dir", "server_workers", "judge_base_url"})
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".safetensors.index.json", ".bin.index.json")
_STEP_DIR = re.compile(r"^global_step_(\d+)$")


@dataclass(frozen=True)
class Checkpoint:
    """A verl FSDP checkpoint: the actor folder the merger reads, its training step, the run's checkpoint root."""

    actor_dir: Path
    step: int | None
    root: Path | None


def find_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """The checkpoint at `path`: an actor folder, a global_step_N folder, or the run's checkpoint root (then the
    step in latest_checkpointed_iteration.txt, which verl writes once a save is complete, else the highest one)."""
    given = Path(path)
    if (given / FSDP_CONFIG).is_file():
        return Checkpoint(given, *_step_and_root(given.parent))
    if (given / "actor" / FSDP_CONFIG).is_file():
        return Checkpoint(given / "actor", *_step_and_root(given))
    if not given.is_dir():
        raise ReleaseError(f"{given}: no such folder; pass the run's checkpoint folder (trainer.default_local_dir) "
                           "or one of its global_step_N/actor folders")
    steps = {int(m.group(1)): d for d in given.iterdir() if (m := _STEP_DIR.match(d.name)) and d.is_dir()}
    complete = sorted(n for n, d in steps.items() if (d / "actor" / FSDP_CONFIG).is_file())
    tracker = given / TRACKER
    if tracker.is_file():
        text = tracker.read_text().strip()
        if not text.isdigit():
            raise ReleaseError(f"{tracker}: {text!r} is not a step number; pass a global_step_N/actor folder instead")
        if int(text) not in complete:
            raise ReleaseError(f"{tracker} names step {text}, but {given}/global_step_{text}/actor/{FSDP_CONFIG} is "
                               f"missing; pass a complete global_step_N/actor folder (complete: {_listing(complete)})")
        step = int(text)
    elif complete:
        step = complete[-1]
    else:
        found = f"global_step folders without an FSDP actor: {_listing(sorted(steps))}" if steps else "no global_step_N folders"
        raise ReleaseError(f"{given}: no verl FSDP checkpoint ({found}). Pass the run's trainer.default_local_dir or a "
                           f"global_step_N/actor folder holding {FSDP_CONFIG}; for a Megatron checkpoint, merge it with "
                           f"`python -m {MERGER} merge --backend megatron ...` and pass the result with --hf-dir")
    return Checkpoint(steps[step] / "actor", step, given)


def merge_command(actor_dir: Path, target: Path) -> list[str]:
    """verl's own merger (verl/model_merger), in this interpreter: FSDP shards -> safetensors, config, tokenizer."""
    return [sys.executable, "-m", MERGER, "merge", "--backend", "fsdp", "--local_dir", str(actor_dir),
            "--target_dir", str(target)]


def merge_checkpoint(actor_dir: str | os.PathLike, target: str | os.PathLike, *, overwrite: bool = False,
                     echo: Callable[[str], None] | None = None) -> Path:
    """Merge the checkpoint into `target` (a Hugging Face model folder) with verl's merger in a subprocess.

    The merger writes into a hidden sibling that replaces `target` only once it succeeded, so a failed or
    interrupted merge never leaves a half-written model where one is expected. `echo` receives its output lines.
    """
    actor, out = Path(actor_dir), Path(target)
    if actor.resolve().is_relative_to(out.resolve()):
        raise ReleaseError(f"--out {out} holds the checkpoint {actor}; write the merged model somewhere else")
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise ReleaseError(f"{out} exists and is not empty; choose another --out, pass --overwrite to replace it, or "
                           "pass it with --hf-dir if it already holds this merged model")
    if importlib.util.find_spec(MERGER.split(".")[0]) is None:
        raise ReleaseError(f"verl is not installed for {sys.executable}, and merging needs its model merger: run this "
                           "where you trained, or merge there and pass the model folder with --hf-dir")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.merging-", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would stay on the model folder after the rename
    command = merge_command(actor, staging)
    if echo is not None:
        echo(f"merging {actor} -> {out}: {shlex.join(command)}")
    try:
        tail = _run(command, echo)
        if tail is not None:
            raise ReleaseError(f"merging the checkpoint {actor} failed: {tail}; nothing was written to {out}. To see "
                               f"the merger's whole output, run it alone: {shlex.join(merge_command(actor, out))}")
        check_model_folder(staging)
        if out.is_dir() and not out.is_symlink():
            shutil.rmtree(out)
        elif out.exists() or out.is_symlink():
            out.unlink()
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _run(command: list[str], echo: Callable[[str], None] | None) -> str | None:
    """Run the merger; None when it succeeded, else its exit status and last line (a traceback's error)."""
    last = "no output"
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace") as merger:
        assert merger.stdout is not None
        for line in merger.stdout:
            if line.strip():
                last = line.strip()
            if echo is not None:
                echo(line.rstrip())
    return None if merger.returncode == 0 else f"exit status {merger.returncode}, {last}"


def check_model_folder(folder: str | os.PathLike) -> None:
    """A Hugging Face model folder that vLLM and transformers can load: config, weights and tokenizer."""
    root = Path(folder)
    if not root.is_dir():
        raise ReleaseError(f"{root}: no such folder; pass the folder verl's merger wrote (config.json, *.safetensors)")
    names = {p.name for p in root.iterdir() if p.is_file()}
    missing = [what for what, ok in (
        ("config.json", "config.json" in names),
        ("the weights (*.safetensors or pytorch_model*.bin)", any(n.endswith(WEIGHT_SUFFIXES[:2]) for n in names)),
        ("the tokenizer (tokenizer_config.json)", "tokenizer_config.json" in names)) if not ok]
    if missing:
        raise ReleaseError(f"{root}: not a complete Hugging Face model folder, it lacks {', '.join(missing)}; merge the "
                           "checkpoint again (without --hf-dir)")


def find_run_config(given: str | os.PathLike | None, checkpoint: Checkpoint | None) -> Path:
    """The run's resolved config: `given` (a file, or a folder holding .hydra/config.yaml), else the one Hydra
    wrote into the checkpoint root (when the launcher set hydra.run.dir to it)."""
    if given is not None:
        path = Path(given)
        if path.is_dir():
            found = next((c for c in (path / HYDRA_CONFIG, path / HYDRA_CONFIG.name) if c.is_file()), None)
            if found is None:
                raise ReleaseError(f"--config {path}: a folder without {HYDRA_CONFIG} or {HYDRA_CONFIG.name}; pass the "
                                   "run's config file")
            return found
        if not path.is_file():
            raise ReleaseError(f"--config {path}: no such file")
        return path
    if checkpoint is not None and checkpoint.root is not None and (checkpoint.root / HYDRA_CONFIG).is_file():
        return checkpoint.root / HYDRA_CONFIG
    where = f" (looked for {checkpoint.root / HYDRA_CONFIG})" if checkpoint is not None and checkpoint.root else ""
    raise ReleaseError(f"no run config found{where}; pass --config: the {HYDRA_CONFIG} Hydra wrote for the training run "
                       "(under outputs/DATE/TIME/ unless hydra.run.dir was set), or a YAML/JSON file of the config")


def read_run_settings(path: str | os.PathLike) -> dict[str, Any]:
    """The card's training settings from a run config (Hydra's config.yaml, or YAML/JSON of the same shape):
    TRAINING_KEYS, the base model path and the `awm` section, resolved (Hydra leaves ${...} interpolations in)."""
    try:
        from omegaconf import DictConfig, OmegaConf  # noqa: PLC0415 - installed with verl (hydra-core)
        from omegaconf.errors import OmegaConfBaseException  # noqa: PLC0415
    except ImportError:
        raise ReleaseError("reading a run config needs omegaconf (installed with verl): pip install omegaconf") from None
    import yaml  # noqa: PLC0415 - a dependency of huggingface_hub and omegaconf

    source = Path(path)
    try:
        config = OmegaConf.load(source)
    except (OSError, yaml.YAMLError, OmegaConfBaseException) as exc:
        raise ReleaseError(f"{source}: not a readable YAML/JSON config ({first_line(exc)})") from None
    if not isinstance(config, DictConfig):
        raise ReleaseError(f"{source}: the config is a list, not a mapping of settings; pass the run's {HYDRA_CONFIG}")
    awm = OmegaConf.select(config, AWM_SECTION)
    awm_keys = [f"{AWM_SECTION}.{k}" for k in awm if k not in AWM_SERVING_KEYS] if isinstance(awm, DictConfig) else []
    settings: dict[str, Any] = {}
    for key in (MODEL_PATH_KEY, *TRAINING_KEYS, *awm_keys):
        try:
            value = OmegaConf.select(config, key, throw_on_missing=False)
        except OmegaConfBaseException as exc:
            raise ReleaseError(f"{source}: {key} cannot be resolved ({first_line(exc)}); pass a config with plain values "
                               "(e.g. `OmegaConf.to_yaml(cfg, resolve=True)` of the run's config)") from None
        if value is not None:
            settings[key] = OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
    if not any(key in settings for key in TRAINING_KEYS):
        raise ReleaseError(f"{source}: none of verl's training settings (e.g. actor_rollout_ref.actor.optim.lr) are in "
                           f"it; pass the run's {HYDRA_CONFIG}")
    return settings


@dataclass(frozen=True)
class Evaluation:
    """One `awm eval` run for the card: its folder name, summary.json and the settings that shaped it."""

    name: str
    summary: dict[str, Any]
    revision: str | None
    protocol: dict[str, Any]
    sampling: dict[str, Any]

    @property
    def thinking(self) -> str:
        return {True: "on", False: "off", None: "server default"}[self.sampling.get("enable_thinking")]


def load_evaluation(path: str | os.PathLike) -> Evaluation:
    """An `awm eval` run folder (its --out) or its summary.json; refuses an unfinished run, whose rates are partial."""
    given = Path(path)
    folder = given.parent if given.is_file() else given
    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        summary = json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReleaseError(f"--eval-summary {given}: no {Path(exc.filename).name}; pass the --out folder of `awm eval` (it "
                           f"writes {CONFIG_FILE} and {SUMMARY_FILE}; `awm eval summary FOLDER` rewrites the summary)") from None
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"--eval-summary {given}: unreadable ({first_line(exc)}); run `awm eval summary {folder}`") from None
    if not summary.get("finished") or not summary.get("tasks_evaluated"):
        raise ReleaseError(f"--eval-summary {given}: the evaluation is unfinished ({summary.get('episodes', 0)} of "
                           f"{summary.get('episodes_expected', '?')} episodes); finish it by running the same `awm eval` "
                           "command again, then release")
    return Evaluation(folder.resolve().name, summary, config.get("revision"), config.get("protocol", {}),
                      config.get("sampling", {}))


@dataclass(frozen=True)
class CardFacts:
    """Everything the model card states, gathered before anything heavy runs."""

    repo_id: str
    base_model: str
    dataset: str
    revision: str | None
    split: str
    tasks: int
    environments: int
    step: int | None
    settings: dict[str, Any]  # from read_run_settings
    evaluations: tuple[Evaluation, ...] = ()
    license: str = DEFAULT_LICENSE

    @property
    def estimator(self) -> str:
        return str(self.settings.get("algorithm.adv_estimator", "grpo"))

    def commit_message(self) -> str:
        step = f", step {self.step}" if self.step is not None else ""
        return (f"awm-release: {self.base_model} + {self.estimator.upper()} on {self.dataset}@{self.revision or 'main'} "
                f"({self.split}, {self.tasks:,} tasks{step})")


def card_facts(repo_id: str, settings: dict[str, Any], *, base_model: str | None = None, dataset: str | None = None,
               revision: str | None = None, split: str = "train", step: int | None = None,
               evaluations: Iterable[Evaluation] = (), license: str = DEFAULT_LICENSE) -> CardFacts:
    """The card's facts: options win over the run config; the task count comes from the release's manifest
    (read through the Hugging Face cache, so it works offline where training ran)."""
    from awm_release.release.load import hub_manifest  # noqa: PLC0415 - the Hub client loads only when releasing
    from awm_release.release.publish import check_repo_id  # noqa: PLC0415

    check_repo_id(repo_id, "--repo-id", "awm/qwen3-8b-awm")
    base_model = base_model or _hub_id(settings.get(MODEL_PATH_KEY))
    if base_model is None:
        raise ReleaseError(f"the run's {MODEL_PATH_KEY} is {settings.get(MODEL_PATH_KEY)!r}, not a Hub model id; pass the "
                           "model it was downloaded from with --base-model (e.g. Qwen/Qwen3-8B)")
    dataset = dataset or settings.get(f"{AWM_SECTION}.dataset")
    revision = revision or settings.get(f"{AWM_SECTION}.revision")
    if dataset is None or _hub_id(dataset) is None:
        raise ReleaseError(f"the card names the training data by its Hub dataset, and {dataset!r} is not one; pass "
                           "--dataset OWNER/NAME and --revision vX.Y.Z of the release the run trained on")
    counts = hub_manifest(dataset, revision).counts
    if split not in counts["tasks"]:
        raise ReleaseError(f"--split {split!r}: {dataset}@{revision or 'main'} has splits {', '.join(counts['tasks'])}")
    role = "test" if split == "test" else "train"  # validation tasks come from the training environments
    return CardFacts(repo_id, base_model, dataset, revision, split, counts["tasks"][split],
                     counts["environments_by_role"][role], step, settings, tuple(evaluations), license)


def render_model_card(facts: CardFacts, template: str | os.PathLike | None = None) -> str:
    """The model card (README.md): the Hub's YAML header, then the Jinja2 template's body."""
    from huggingface_hub import ModelCard, ModelCardData  # noqa: PLC0415

    data = ModelCardData(
        base_model=facts.base_model, datasets=[facts.dataset], library_name="transformers", license=facts.license,
        language=["en"], pipeline_tag="text-generation",
        tags=["agent", "tool-use", "reinforcement-learning", facts.estimator.lower(), "verl", "agent-world-model"],
    )
    table = {key: _cell(value) for key, value in facts.settings.items() if key != MODEL_PATH_KEY}
    window = facts.settings.get(f"{AWM_SECTION}.history_window")
    return render_repo_card(
        ModelCard, data, Path(template) if template is not None else DEFAULT_TEMPLATE,
        repo_id=facts.repo_id, base_model=facts.base_model, dataset=facts.dataset, revision=facts.revision,
        split=facts.split, tasks=facts.tasks, environments=facts.environments, step=facts.step,
        estimator=facts.estimator, verify_mode=facts.settings.get(f"{AWM_SECTION}.verify_mode", "code"),
        history_window=0 if str(window).lower() == "all" else window,  # `awm eval --history-window 0` keeps every turn
        max_turns=facts.settings.get(MAX_TURNS_KEY), hyperparameters=table, evaluations=list(facts.evaluations),
    )


def plan_model_push(folder: str | os.PathLike, repo_id: str, api: HfApi, *, commit_message: str,
                    private: bool = False, tag: str | None = None, offline: str | None = None) -> PushPlan:
    """Check the model folder and the repo and list the operations: every file of the folder, and the deletion of
    weight files an earlier push left that this model does not have. Refuses a tag that exists.

    With `offline` (why the Hub cannot be asked), only the folder is checked and the plan says what was not.
    """
    from awm_release.release.publish import PushPlan, check_repo_id, remote_repo  # noqa: PLC0415

    root = Path(folder)
    check_repo_id(repo_id, "--repo-id", "awm/qwen3-8b-awm")
    check_model_folder(root)
    if not (root / CARD_FILE).is_file():
        raise ReleaseError(f"{root}: no {CARD_FILE} (the model card); run `awm train release-model` to write it")
    version_tag = f"v{normalize_version(tag)}" if tag is not None else None
    uploads = tuple(sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                           if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)))
    remote = remote_repo(api, repo_id, REPO_TYPE, tag=version_tag, new_version_hint="pass a new --tag", offline=offline)
    deletions = tuple(sorted(p for p in remote.files if p.endswith(WEIGHT_SUFFIXES) and p not in uploads))
    return PushPlan(root, repo_id, REPO_TYPE, version_tag, f"awm-release model {version_tag}", not (remote.exists or offline),
                    private, remote.main, uploads, deletions, commit_message, unchecked=offline)


def _step_and_root(step_dir: Path) -> tuple[int | None, Path | None]:
    match = _STEP_DIR.match(step_dir.name)
    return (int(match.group(1)), step_dir.parent) if match else (None, None)


def _hub_id(value: Any) -> str | None:
    """`value` when it names a Hub repo (owner/name) rather than a local path."""
    return value if is_hub_repo_id(value) else None


def _cell(value: Any) -> str:
    """A setting as the config spells it (true, null, [..]), safe inside a Markdown table cell."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _listing(steps: list[int]) -> str:
    return ", ".join(map(str, steps[-5:])) if steps else "none"

