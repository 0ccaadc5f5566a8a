"""`awm release push`: a packed folder -> one commit on a Hub dataset repo, tagged with its version.

Planning is separate from doing: `plan_push` checks everything that can be checked before a byte is sent
(the folder matches its manifest, the version's tag is not taken) and lists the operations; `execute_push`
carries them out. Published versions are immutable: an existing tag is never moved or overwritten.
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

from awm_release.release.errors import ReleaseError
from awm_release.release.manifest import MANIFEST_FILE, check_files, read_manifest

CARD_FILE = "README.md"
REPO_TYPE = "dataset"


@dataclass(frozen=True)
class PushPlan:
    """Everything a push will do, in order; `describe()` prints it for --dry-run."""

    folder: Path
    repo_id: str
    version: str
    tag: str
    create_repo: bool
    private: bool
    parent_commit: str | None  # the head of main when planned: the commit fails if someone pushed since
    uploads: tuple[str, ...]
    deletions: tuple[str, ...]  # data shards of an earlier version that this one does not have
    commit_message: str

    def describe(self) -> list[str]:
        steps = [f"create dataset repo {self.repo_id}" + (" (private)" if self.private else "")] if self.create_repo else []
        steps.append(f"commit to {self.repo_id}@main" + (f" (parent {self.parent_commit[:12]})" if self.parent_commit else "")
                     + f": {self.commit_message!r}")
        steps += [f"  upload {path}" for path in self.uploads]
        steps += [f"  delete {path}" for path in self.deletions]
        steps.append(f"tag the commit {self.tag}")
        return steps


def plan_push(folder: str | os.PathLike, repo_id: str, api: HfApi, *, private: bool = False) -> PushPlan:
    """Check the folder and the repo, and list the operations; raises ReleaseError for every refusal."""
    root = Path(folder)
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise ReleaseError(f"--repo {repo_id!r}: {exc}") from None
    if "/" not in repo_id:
        raise ReleaseError(f"--repo {repo_id!r}: give the owner too, e.g. awm/envs")
    manifest = read_manifest(root)
    check_files(root, manifest)
    if not (root / CARD_FILE).is_file():
        raise ReleaseError(f"{root}: no {CARD_FILE} (the dataset card); re-pack the folder with `awm release pack`")
    uploads = (CARD_FILE, MANIFEST_FILE, *sorted(manifest.files))
    with _hub_errors(f"{repo_id}: listing its tags", "check HF_TOKEN / `hf auth login`"):
        try:
            refs = api.list_repo_refs(repo_id, repo_type=REPO_TYPE)
        except RepositoryNotFoundError:
            refs = None
    parent, deletions = None, ()
    if refs is not None:
        taken = {t.name: t.target_commit for t in refs.tags}
        if manifest.tag in taken:
            raise ReleaseError(f"{repo_id}: tag {manifest.tag} already exists (commit {taken[manifest.tag][:12]}); published "
                               "versions are immutable: re-pack with a new --version and push that")
        parent = next((b.target_commit for b in refs.branches if b.name == "main"), None)
        if parent is not None:
            with _hub_errors(f"{repo_id}: listing its files", "retry"):
                remote = api.list_repo_files(repo_id, repo_type=REPO_TYPE, revision=parent)
            deletions = tuple(sorted(p for p in remote if p.startswith("data/") and p not in uploads))
    counts = manifest.counts
    message = f"awm-release {manifest.version}: {counts['environments']:,} environments, {counts['tasks_total']:,} tasks"
    return PushPlan(root, repo_id, manifest.version, manifest.tag, refs is None, private, parent, uploads, deletions, message)


def execute_push(plan: PushPlan, api: HfApi) -> str:
    """Create the repo if needed, make the one commit, tag it; returns the commit id."""
    if plan.create_repo:
        with _hub_errors(f"{plan.repo_id}: creating the repo", "check that your token may create repos in that namespace"):
            api.create_repo(plan.repo_id, repo_type=REPO_TYPE, private=plan.private, exist_ok=True)
    operations = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(plan.folder / p)) for p in plan.uploads]
    operations += [CommitOperationDelete(path_in_repo=p) for p in plan.deletions]
    with _hub_errors(f"{plan.repo_id}: the commit was refused", "if main moved since the plan, run the push again"):
        commit = api.create_commit(plan.repo_id, operations, commit_message=plan.commit_message, repo_type=REPO_TYPE,
                                   parent_commit=plan.parent_commit)
    with _hub_errors(f"{plan.repo_id}: committed {commit.oid[:12]} but could not tag it {plan.tag}",
                     f"tag it with `hf repos tag create {plan.repo_id} {plan.tag} --revision {commit.oid} --repo-type dataset`"):
        api.create_tag(plan.repo_id, tag=plan.tag, revision=commit.oid, repo_type=REPO_TYPE,
                       tag_message=f"awm-release {plan.version}")
    return commit.oid


@contextmanager
def _hub_errors(what: str, remedy: str) -> Iterator[None]:
    """The Hub client's HTTP and network errors as one ReleaseError: what failed, why, and what to do."""
    try:
        yield
    except HfHubHTTPError as exc:
        raise ReleaseError(f"{what} ({_first_line(exc)}); {remedy}") from None
    except (*_transport_errors(), OfflineModeIsEnabled) as exc:
        raise ReleaseError(f"{what}: the Hub cannot be reached ({type(exc).__name__}: {_first_line(exc)}); check the "
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


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
