"""`awm train`: prepare training data (verl or TRL) from the release's tasks, and publish a trained model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from awm_release.release.errors import ReleaseError
from awm_release.terminal import plain_console, print_error
from awm_release.training.model_release import DEFAULT_LICENSE

console = plain_console()

train_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help=(
    "Training with verl (recipes/verl) or TRL (recipes/trl).\n\n`awm train data` turns the release's tasks into "
    "training parquet, `awm train release-model` turns the final checkpoint into a Hugging Face model with its card "
    "and pushes it."))


@train_app.command("data")
def data_command(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Hub dataset repo (awm/envs) or a folder written by `awm release pack`.")] = "awm/envs",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for <split>.parquet (verl's data.train_files / data.val_files, or TRL's train_dataset).")] = Path("data/awm"),
    revision: Annotated[Optional[str], typer.Option("--revision", help="The dataset's version tag or commit (recorded by your run: pin it).")] = None,
    split: Annotated[Optional[list[str]], typer.Option("--split", help="Splits to write (repeatable); default: train and validation.")] = None,
    data_format: Annotated[str, typer.Option("--format", help="verl (rows for the AWM agent loop) or trl (rows for GRPOTrainer with AWMEnvironment).")] = "verl",
    release_dir: Annotated[Optional[Path], typer.Option("--release-dir", help="Download a Hub release into this folder first (put it where every training node sees it), and read the tasks from it; the training servers serve it from there.", show_default=False)] = None,
    trust_remote_code: Annotated[bool, typer.Option("--trust-remote-code", help="Consent to executing a Hub release's environment and verifier code: needed with --release-dir for a Hub dataset, whose copy the training servers run.")] = False,
) -> None:
    """Turn the release's `tasks` config into training parquet, one row per task: for verl's AWM agent loop
    (recipes/verl) or for TRL's GRPOTrainer with the AWM environment (recipes/trl).

    Examples:

      awm train data --dataset awm/envs --revision v1.0.0 --out data/awm --release-dir data/awm/release --trust-remote-code

      awm train data --dataset awm/envs --revision v1.0.0 --out data/awm-trl --format trl

    The verl launchers (`bash recipes/verl/run_qwen3_8b_grpo.sh`) run the first form themselves when the files
    are missing.
    """
    from awm_release.agent.tasks import TaskSourceError  # noqa: PLC0415
    from awm_release.training.data import DEFAULT_SPLITS, write_training_data  # noqa: PLC0415

    try:
        written = write_training_data(dataset, out, revision=revision, splits=tuple(split or DEFAULT_SPLITS),
                                      data_format=data_format, release_dir=release_dir,
                                      trust_remote_code=trust_remote_code)
    except TaskSourceError as exc:
        print_error(plain_console(stderr=True), str(exc))
        raise typer.Exit(2) from None
    if release_dir is not None:
        console.print(f"release: {release_dir} (serve it with `awm-serve --dataset {release_dir}`)", highlight=False)
    for name, (path, rows) in written.items():
        console.print(f"{name}: {rows} task(s) -> {path}", highlight=False)


@train_app.command("release-model")
def release_model(
    checkpoint: Annotated[Optional[Path], typer.Argument(
        help="The run's checkpoint folder (trainer.default_local_dir: its latest complete global_step_N is taken), "
             "a global_step_N folder, or its actor/ folder.", show_default=False)] = None,
    repo_id: Annotated[str, typer.Option("--repo-id", help="Hub model repo to push to, owner/name.", show_default=False)] = ...,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the merged model (default: "
                                                                   "global_step_N/hf_model beside actor/).", show_default=False)] = None,
    hf_dir: Annotated[Optional[Path], typer.Option(help="An already merged model folder: skip merging (CHECKPOINT then "
                                                        "only locates the run's config and step).", show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a non-empty --out.")] = False,
    config: Annotated[Optional[Path], typer.Option(help="The run's config: its .hydra/config.yaml, the run folder holding "
                                                        ".hydra/, or a YAML/JSON file of the same keys. Default: "
                                                        "CHECKPOINT_ROOT/.hydra/config.yaml.", show_default=False)] = None,
    eval_summary: Annotated[Optional[list[Path]], typer.Option(help="An `awm eval` run folder (its --out) or its "
                                                                    "summary.json, for the card's evaluation table; "
                                                                    "repeatable (e.g. base model and trained model).",
                                                               show_default=False)] = None,
    base_model: Annotated[Optional[str], typer.Option(help="Hub id of the base model (default: the run's "
                                                           "actor_rollout_ref.model.path when it is one).", show_default=False)] = None,
    dataset: Annotated[Optional[str], typer.Option(help="Hub dataset the run trained on (default: the run's awm.dataset).",
                                                   show_default=False)] = None,
    revision: Annotated[Optional[str], typer.Option(help="Its release tag, e.g. v1.0.0 (default: the run's awm.revision).",
                                                    show_default=False)] = None,
    split: Annotated[str, typer.Option(help="The tasks split trained on.")] = "train",
    license: Annotated[str, typer.Option(help="License identifier for the card header (the base model's).")] = DEFAULT_LICENSE,
    card_template: Annotated[Optional[Path], typer.Option(help="Jinja2 card template to use instead of the built-in one.",
                                                          show_default=False)] = None,
    tag: Annotated[Optional[str], typer.Option(help="Version X.Y.Z: tag the commit vX.Y.Z (an existing tag is refused).",
                                               show_default=False)] = None,
    commit_message: Annotated[Optional[str], typer.Option(help="Default: base model, algorithm, dataset, split, step.",
                                                          show_default=False)] = None,
    private: Annotated[bool, typer.Option(help="Create the repo private (only when it does not exist yet).")] = False,
    dry_run: Annotated[bool, typer.Option(help="Merge and write the model folder and its card, print the push plan; "
                                               "send nothing. Offline, the plan says what it could not check on the "
                                               "Hub.")] = False,
) -> None:
    """Publish a trained model: merge the final verl checkpoint into a Hugging Face model folder, write its
    model card, and push it to a Hub model repo.

    Every check runs before the merge: the run config (training settings for the card), the evaluations
    (`awm eval` runs; unfinished ones are refused), the dataset release (its task count, through the Hugging
    Face cache). The merge is verl's own (`python -m verl.model_merger merge --backend fsdp`), written to a
    hidden folder that replaces --out only once complete. The card (README.md) holds the base model, the
    training data, every training setting, the evaluation table, usage with awm-serve + `awm eval`, and limits.
    The push is one commit (weight files an earlier push left behind are deleted), optionally tagged --tag.
    Log in first with `hf auth login` or set HF_TOKEN.

    Examples:

    \b
      awm train release-model checkpoints/awm/qwen3-8b --repo-id me/qwen3-8b-awm --dry-run
      awm train release-model checkpoints/awm/qwen3-8b --repo-id me/qwen3-8b-awm --tag 1.0.0 \\
          --eval-summary evals/qwen3-8b-test --eval-summary evals/qwen3-8b-awm-test
      awm train release-model --hf-dir models/qwen3-8b-awm --config outputs/2026-03-01/12-00-00 \\
          --repo-id me/qwen3-8b-awm --dataset awm/envs --revision v1.0.0 --private
    """
    from huggingface_hub import HfApi  # noqa: PLC0415 - deferred so that other `awm` commands start fast

    from awm_release.atomic import write_atomic  # noqa: PLC0415
    from awm_release.release.manifest import normalize_version  # noqa: PLC0415
    from awm_release.release.hub_access import hub_unreachable  # noqa: PLC0415
    from awm_release.release.publish import execute_push  # noqa: PLC0415
    from awm_release.training.model_release import (  # noqa: PLC0415
        CARD_FILE, card_facts, check_model_folder, find_checkpoint, find_run_config, load_evaluation, merge_checkpoint,
        plan_model_push, read_run_settings, render_model_card)

    err_console = plain_console(stderr=True)
    try:
        if checkpoint is None and hf_dir is None:
            raise ReleaseError("give the checkpoint to merge (the run's checkpoint folder), or --hf-dir with a merged "
                               "model folder; see `awm train release-model --help`")
        if hf_dir is not None and (out is not None or overwrite):
            raise ReleaseError("--out and --overwrite say where to merge; with --hf-dir nothing is merged and the card is "
                               "written into that folder: drop them")
        if tag is not None:
            normalize_version(tag)  # refused now rather than after the merge
        found = find_checkpoint(checkpoint) if checkpoint is not None else None
        if hf_dir is not None:
            check_model_folder(hf_dir)
        settings = read_run_settings(find_run_config(config, found))
        evaluations = [load_evaluation(path) for path in eval_summary or []]
        facts = card_facts(repo_id, settings, base_model=base_model, dataset=dataset, revision=revision, split=split,
                           step=found.step if found is not None else None, evaluations=evaluations, license=license)
        card = render_model_card(facts, card_template)
        if hf_dir is not None:
            folder = hf_dir
        else:
            assert found is not None
            folder = merge_checkpoint(found.actor_dir, out or found.actor_dir.parent / "hf_model", overwrite=overwrite,
                                      echo=lambda line: err_console.print(line, style="dim", highlight=False))
        write_atomic(folder / CARD_FILE, card.encode("utf-8"))
        console.print(f"{folder}: model and card ({folder / CARD_FILE}) ready", highlight=False)
        api = HfApi()
        plan = plan_model_push(folder, repo_id, api, commit_message=commit_message or facts.commit_message(),
                               private=private, tag=tag, offline=hub_unreachable() if dry_run else None)
        for line in plan.describe():
            console.print(line, highlight=False)
        if dry_run:
            console.print(f"dry run: nothing was sent; to push this folder without merging again, run the command with "
                          f"--hf-dir {folder} instead of --out/--overwrite, and without --dry-run", highlight=False)
            return
        commit = execute_push(plan, api)
    except ReleaseError as exc:
        print_error(err_console, str(exc))
        raise typer.Exit(2) from None
    console.print(f"pushed {repo_id}@{plan.tag or 'main'} (commit {commit[:12]}); serve it: vllm serve {repo_id} "
                   f"--enable-auto-tool-choice --tool-call-parser hermes --reasoning-parser qwen3; evaluate it: "
                   f"awm eval --dataset {facts.dataset} --split test --model {repo_id} --base-url URL", highlight=False)
