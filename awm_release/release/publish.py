"""`awm release push`: a packed folder -> one commit on a Hub dataset repo, tagged with its version.

Planning is separate from doing: `plan_push` checks everything that can be checked before a byte is sent
(the folder matches its manifest, the version's tag is not taken) and lists the operations; `execute_push`
carries them out. Published versions are immutable: an existing tag is never moved or overwritten.
`check_repo_id`, `remote_repo`, `execute_push` and `hub_errors` also publish trained models
(`awm_release.training.model_release`), so both kinds of release push the same way.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import HFValidationError, HfHubHTTPError, OfflineModeIsEnabled, RepositoryNotFoundError
from huggingface_hub.utils import validate_repo_id

from awm_release.release.card import CARD_FILE
from awm_release.release.errors import ReleaseError, first_line
from awm_release.release.manifest import MANIFEST_FILE, check_files, read_manifest

REPO_TYPE = "dataset"


@dataclass(frozen=True)
class PushPlan:
    """Everything a push will do, in order; `describe()` prints it for --dry-run."""

    folder: Path
    repo_id: str
    repo_type: str  # "dataset" or "model"
    tag: str | None  # the version's tag, set on the commit; None leaves the commit untagged
    tag_message: str
    create_repo: bool
    private: bool
    parent_commit: str | None  # the head of main when planned: the commit fails if someone pushed since
    uploads: tuple[str, ...]
    deletions: tuple[str, ...]  # files of an earlier version that this one replaces and does not have
    commit_message: str
    unchecked: str | None = None  # why the repo could not be asked (an offline plan); None: everything was checked

    def describe(self) -> list[str]:
        private = " (private)" if self.private else ""
        steps = ([f"create {self.repo_type} repo {self.repo_id}{private}"] if self.create_repo else
                 [f"create {self.repo_type} repo {self.repo_id}{private} if it does not exist"] if self.unchecked else [])
        steps.append(f"commit to {self.repo_id}@main" + (f" (parent {self.parent_commit[:12]})" if self.parent_commit else "")
                     + f": {self.commit_message!r}")
        steps += [f"  upload {path}" for path in self.uploads]
        steps += [f"  delete {path}" for path in self.deletions]
        steps += [f"tag the commit {self.tag}"] if self.tag else []
        if self.unchecked:
            steps.append(f"not checked, because the Hub could not be asked ({self.unchecked}): whether {self.repo_id} exists, "
                         + (f"whether its tag {self.tag} is taken, " if self.tag else "")
                         + "the head of its main, and which files of an earlier version the commit deletes; "
                         "the folder itself was checked. Run the dry run again online before pushing")
        return steps


@dataclass(frozen=True)
class RemoteRepo:
    """A Hub repo as planning found it."""

    exists: bool
    main: str | None  # head commit of main (None: no repo, or a repo without commits)
    files: tuple[str, ...]  # the files at that commit


def check_repo_id(repo_id: str, option: str, example: str) -> None:
    """Refuse a repo id the Hub would refuse, or one without its owner, naming the option it came from."""
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise ReleaseError(f"{option} {repo_id!r}: {exc}") from None
    if "/" not in repo_id:
        raise ReleaseError(f"{option} {repo_id!r}: give the owner too, e.g. {example}")


def remote_repo(api: HfApi, repo_id: str, repo_type: str, *, tag: str | None, new_version_hint: str,
                offline: str | None = None) -> RemoteRepo:
    """The repo's main and files; refuses a `tag` that exists, since published versions are immutable.

    With `offline` (why the Hub cannot be asked) nothing is asked: an offline plan reads as for a new repo.
    """
    if offline:
        return RemoteRepo(exists=False, main=None, files=())
    with hub_errors(f"{repo_id}: listing its tags", "check HF_TOKEN / `hf auth login`"):
        try:
            refs = api.list_repo_refs(repo_id, repo_type=repo_type)
        except RepositoryNotFoundError:
            return RemoteRepo(exists=False, main=None, files=())
    taken = {t.name: t.target_commit for t in refs.tags}
    if tag is not None and tag in taken:
        raise ReleaseError(f"{repo_id}: tag {tag} already exists (commit {taken[tag][:12]}); published versions are "
                           f"immutable: {new_version_hint}")
    main = next((b.target_commit for b in refs.branches if b.name == "main"), None)
    if main is None:
        return RemoteRepo(exists=True, main=None, files=())
    with hub_errors(f"{repo_id}: listing its files", "retry"):
        files = api.list_repo_files(repo_id, repo_type=repo_type, revision=main)
    return RemoteRepo(exists=True, main=main, files=tuple(files))


def plan_push(folder: str | os.PathLike, repo_id: str, api: HfApi, *, private: bool = False,
              offline: str | None = None) -> PushPlan:
    """Check the folder and the repo, and list the operations; raises ReleaseError for every refusal.

    With `offline` (why the Hub cannot be asked), only the folder is checked and the plan says what was not.
    """
    root = Path(folder)
    check_repo_id(repo_id, "--repo", "awm/envs")
    manifest = read_manifest(root)
    check_files(root, manifest)
    if not (root / CARD_FILE).is_file():
        raise ReleaseError(f"{root}: no {CARD_FILE} (the dataset card); re-pack the folder with `awm release pack`")
    uploads = (CARD_FILE, MANIFEST_FILE, *sorted(manifest.files))
    remote = remote_repo(api, repo_id, REPO_TYPE, tag=manifest.tag, new_version_hint="re-pack with a new --version and push that",
                         offline=offline)
    deletions = tuple(sorted(p for p in remote.files if p.startswith("data/") and p not in uploads))
    counts = manifest.counts
    message = f"awm-release {manifest.version}: {counts['environments']:,} environments, {counts['tasks_total']:,} tasks"
    return PushPlan(root, repo_id, REPO_TYPE, manifest.tag, f"awm-release {manifest.version}", not (remote.exists or offline),
                    private, remote.main, uploads, deletions, message, unchecked=offline)


def execute_push(plan: PushPlan, api: HfApi) -> str:
    """Create the repo if needed, make the one commit, tag it; returns the commit id."""
    if plan.create_repo:
        with hub_errors(f"{plan.repo_id}: creating the repo", "check that your token may create repos in that namespace"):
            api.create_repo(plan.repo_id, repo_type=plan.repo_type, private=plan.private, exist_ok=True)
    operations = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(plan.folder / p)) for p in plan.uploads]
    operations += [CommitOperationDelete(path_in_repo=p) for p in plan.deletions]
    with hub_errors(f"{plan.repo_id}: the commit was refused", "if main moved since the plan, run the push again"):
        commit = api.create_commit(plan.repo_id, operations, commit_message=plan.commit_message, repo_type=plan.repo_type,
                                   parent_commit=plan.parent_commit)
    if plan.tag is not None:
        with hub_errors(f"{plan.repo_id}: committed {commit.oid[:12]} but could not tag it {plan.tag}",
                        f"tag it with `hf repos tag create {plan.repo_id} {plan.tag} --revision {commit.oid} "
                        f"--repo-type {plan.repo_type}`"):
            api.create_tag(plan.repo_id, tag=plan.tag, revision=commit.oid, repo_type=plan.repo_type,
                           tag_message=plan.tag_message)
    return commit.oid


@contextmanager
def hub_errors(what: str, remedy: str) -> Iterator[None]:
    """The Hub client's HTTP and network errors as one ReleaseError: what failed, why, and what to do."""
    try:
        yield
    except HfHubHTTPError as exc:
        raise ReleaseError(f"{what} ({first_line(exc)}); {remedy}") from None
    except (*_transport_errors(), OfflineModeIsEnabled) as exc:
        raise ReleaseError(f"{what}: the Hub cannot be reached ({type(exc).__name__}: {first_line(exc)}); check the "
                           "network, HF_ENDPOINT and HF_HUB_OFFLINE, then retry") from None


def _transport_errors() -> tuple[type[Exception], ...]:
    """Network errors of the Hub client's transport: httpx2 under huggingface_hub 2.x, httpx under 1.x (verl's)."""
    errors: list[type[Exception]] = []
    for module_name in ("httpx2", "httpx"):
        try:
            errors.append(importlib.import_module(module_name).TransportError)
        except ImportError:
            continue
    return tuple(errors)

