"""`awm release`: pack bundles into the dataset, push it to the Hub, show its statistics, unpack it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import track
from rich.table import Table

from awm_release.bundle import BundleError
from awm_release.bundle_io import write_bundle
from awm_release.release.card import DEFAULT_LICENSE, DEFAULT_REPO_ID
from awm_release.release.errors import ReleaseError
from awm_release.release.load import load_bundles
from awm_release.release.manifest import read_manifest
from awm_release.release.splits import DEFAULT_SEED
from awm_release.release.stats import STAT_COLUMNS
from awm_release.terminal import plain_console, print_error

console = plain_console()  # paths and commands stay on one line, copyable
err_console = plain_console(stderr=True)
release_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                          help="The dataset release: pack bundles into a Hugging Face dataset, push it, inspect it.")


def _fail(exc: Exception) -> typer.Exit:
    message = " ".join(str(exc).split()) if isinstance(exc, BundleError) else str(exc)
    print_error(err_console, message)
    return typer.Exit(2)


def _split_summary(counts: dict) -> str:
    roles = ", ".join(f"{n:,} {role}" for role, n in counts["environments_by_role"].items())
    tasks = ", ".join(f"{n:,} {split}" for split, n in counts["tasks"].items())
    return f"{counts['environments']:,} environments ({roles}); {counts['tasks_total']:,} tasks ({tasks})"


@release_app.command("pack")
def pack(
    bundles: Annotated[list[Path], typer.Argument(help="Bundle files or folders of them (as `awm import-awm1k` writes).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the dataset repository into.")],
    version: Annotated[str, typer.Option(help="Release version X.Y.Z; the Hub tag is vX.Y.Z.")],
    seed: Annotated[int, typer.Option(help="Seed of the 80:20 environment and task split.")] = DEFAULT_SEED,
    created_at: Annotated[Optional[str], typer.Option(help="Creation date recorded in the manifest and card (ISO 8601). "
                                                           "Default: SOURCE_DATE_EPOCH, else 1970-01-01T00:00:00Z, so "
                                                           "packing stays byte-identical.")] = None,
    repo_id: Annotated[str, typer.Option("--repo-id", help="Hub repo named in the card's usage snippets.")] = DEFAULT_REPO_ID,
    license: Annotated[str, typer.Option(help="License identifier for the card header.")] = DEFAULT_LICENSE,
    card_template: Annotated[Optional[Path], typer.Option(help="Jinja2 card template to use instead of the built-in one.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier release already in --out.")] = False,
    strict: Annotated[bool, typer.Option(help="All or nothing: stop at the first bundle with any problem. By default "
                                               "unusable bundles, tasks and verifiers are left out, one line each, and "
                                               "listed in the manifest and card.")] = False,
) -> None:
    """Pack bundles into a folder that is exactly a Hugging Face dataset repository.

    Configs `envs` (one row per bundle) and `tasks` (splits train / validation / test), parquet under data/,
    README.md (the dataset card) and manifest.json (per-bundle sha256). Same inputs, same bytes. A broken
    bundle never blocks the others: what cannot be used is left out and listed (see --strict).

    Examples:

    \b
      awm import-awm1k AgentWorldModel-1K/ bundles/
      awm release pack bundles/ --out awm-envs/ --version 1.0.0
      awm release pack bundles/ --out awm-envs/ --version 1.0.1 --seed 7 --created-at 2026-03-01 --overwrite
    """
    from awm_release.release.pack import PackOptions, pack_release  # noqa: PLC0415 - `datasets` loads in ~1 s: only for pack

    options = PackOptions(version=version, seed=seed, created_at=created_at, repo_id=repo_id, license=license,
                          card_template=card_template, overwrite=overwrite, strict=strict)
    try:
        manifest = pack_release(bundles, out, options)
    except (ReleaseError, BundleError) as exc:
        raise _fail(exc) from None
    console.print(f"{out}: version {manifest.version}; {_split_summary(manifest.counts)}", highlight=False)
    if manifest.skipped or manifest.quarantined:
        console.print(f"left out: {len(manifest.skipped):,} bundle file(s), parts of {len(manifest.quarantined):,} bundle(s) "
                      f"(listed above, in {out}/manifest.json and in the card)", highlight=False)
    console.print(f"load it: datasets.load_dataset({str(out)!r}, 'tasks'); push it: awm release push {out} --repo {repo_id}",
                  highlight=False)


@release_app.command("push")
def push(
    folder: Annotated[Path, typer.Argument(help="A folder written by `awm release pack`.")],
    repo: Annotated[str, typer.Option(help="Hub dataset repo, owner/name.")] = DEFAULT_REPO_ID,
    private: Annotated[bool, typer.Option(help="Create the repo private (only when it does not exist yet).")] = False,
    dry_run: Annotated[bool, typer.Option(help="Check everything and print the plan; send nothing. Offline, the folder is "
                                               "checked and the plan says what it could not check on the Hub.")] = False,
) -> None:
    """Publish a packed folder: create the repo if needed, one commit, then the tag v<version>.

    Refuses a folder changed since packing and a version whose tag already exists (versions are immutable).
    Log in first with `hf auth login` or set HF_TOKEN.

    Examples:

    \b
      awm release push awm-envs/ --repo awm/envs --dry-run
      awm release push awm-envs/ --repo awm/envs
    """
    from huggingface_hub import HfApi  # noqa: PLC0415 - deferred so that other `awm` commands start fast

    from awm_release.release.hub_access import hub_unreachable  # noqa: PLC0415
    from awm_release.release.publish import execute_push, plan_push  # noqa: PLC0415

    api = HfApi()
    try:
        plan = plan_push(folder, repo, api, private=private, offline=hub_unreachable() if dry_run else None)
        for step in plan.describe():
            console.print(step, highlight=False)
        if dry_run:
            return
        commit = execute_push(plan, api)
    except ReleaseError as exc:
        raise _fail(exc) from None
    console.print(f"pushed {repo}@{plan.tag} (commit {commit[:12]}); serve it: awm-serve BUNDLE_ID --dataset {repo} "
                  f"--revision {plan.tag}", highlight=False)


@release_app.command("stats")
def stats(folder: Annotated[Path, typer.Argument(help="A folder written by `awm release pack`.")]) -> None:
    """Print the statistics table of the dataset card (from manifest.json, without reading the bundles).

    Example:

    \b
      awm release stats awm-envs/
    """
    try:
        manifest = read_manifest(folder)
    except ReleaseError as exc:
        raise _fail(exc) from None
    table = Table(*STAT_COLUMNS, title=f"{folder}: version {manifest.version}, created {manifest.created_at}")
    for row in manifest.statistics:
        table.add_row(*(row[c] for c in STAT_COLUMNS))
    console.print(table)
    console.print(f"split seed {manifest.split_recipe['seed']}: {_split_summary(manifest.counts)}", highlight=False)


@release_app.command("unpack")
def unpack(
    source: Annotated[str, typer.Argument(help="A release folder, a Hub dataset repo id (owner/name) or 'demo'.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the <bundle_id>.json bundle files.")],
    revision: Annotated[Optional[str], typer.Option(help="Tag, branch or commit of a Hub repo (e.g. v1.0.0).")] = None,
    bundle: Annotated[Optional[list[str]], typer.Option("--bundle", "-b", help="Only this bundle id; repeatable.")] = None,
) -> None:
    """Write a release's bundles back as bundle files (each validated and checked against the manifest).

    Examples:

    \b
      awm release unpack awm-envs/ --out bundles/
      awm release unpack awm/envs --revision v1.0.0 --bundle e_commerce_33 --out bundles/
      awm release unpack awm-envs/ --out bundles/ && awm export-awm1k bundles/ --out AgentWorldModel-1K/
    """
    try:
        bundles = load_bundles(source, revision, bundle, trust_remote_code=True)  # unpacking writes files, runs nothing
    except (ReleaseError, BundleError) as exc:
        raise _fail(exc) from None
    for item in track(list(bundles.values()), "writing bundles", console=err_console, transient=True):
        write_bundle(item, out)
    console.print(f"{len(bundles):,} bundle(s) -> {out}", highlight=False)
