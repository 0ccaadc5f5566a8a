"""Publishing and loading through the Hub protocol, against a Hub stand-in on loopback.

The Hugging Face Hub cannot be reached from here, so `LoopbackHub` speaks the part of its HTTP API that
`huggingface_hub` uses for these operations (repo create, refs, tree, preupload, ndjson commit, tag, file
resolve) and the real client talks to it. It asks for every file as a "regular" upload (inline in the commit),
where the real Hub would take the parquet shards through LFS/Xet storage: that transfer path is the only
part not exercised.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from huggingface_hub import HfApi

from awm_release.release.errors import ReleaseError
from awm_release.release.manifest import read_manifest
from awm_release.release.pack import PackOptions, pack_release
from awm_release.release.publish import execute_push, plan_push
from tests.test_release_pack import pack_sample_and_demo

REPO = "awm/envs"


@dataclass
class HubRepo:
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # commit id -> {path: content}
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def commit(self, files: dict[str, bytes], title: str) -> str:
        oid = hashlib.sha1(json.dumps([title, sorted((p, hashlib.sha256(c).hexdigest()) for p, c in files.items())]).encode()).hexdigest()
        self.commits[oid] = files
        self.branches["main"] = oid
        return oid

    def resolve(self, revision: str) -> str | None:
        revision = unquote(revision)
        return self.branches.get(revision) or self.tags.get(revision) or (revision if revision in self.commits else None)


class LoopbackHub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _HubHandler)
        self.repos: dict[str, HubRepo] = {}
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _HubHandler(BaseHTTPRequestHandler):
    server: LoopbackHub

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, payload: object = None, headers: dict[str, str] | None = None, body: bytes | None = None) -> None:
        data = body if body is not None else json.dumps(payload if payload is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if body is None else "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _not_found(self, code: str) -> None:
        self._send(404, {"error": code}, headers={"X-Error-Code": code})

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _repo(self, parts: list[str]) -> tuple[str, HubRepo | None]:
        repo_id = f"{parts[0]}/{parts[1]}"
        return repo_id, self.server.repos.get(repo_id)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.server.requests.append(f"{self.command} {path}")
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:2] == ["api", "datasets"]:
            repo_id, repo = self._repo(parts[2:4])
            if repo is None:
                return self._not_found("RepoNotFound")
            action, rest = parts[4] if len(parts) > 4 else "", parts[5:]
            if action == "refs":
                ref = lambda name, kind, oid: {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": oid}  # noqa: E731
                return self._send(200, {"branches": [ref(n, "heads", o) for n, o in repo.branches.items()],
                                        "tags": [ref(n, "tags", o) for n, o in repo.tags.items()], "converts": []})
            commit = repo.resolve(rest[0]) if rest else repo.branches.get("main")
            if commit is None:
                return self._not_found("RevisionNotFound")
            files = repo.commits[commit]
            if action in ("revision", ""):
                return self._send(200, {"id": repo_id, "sha": commit, "private": False,
                                        "siblings": [{"rfilename": p} for p in sorted(files)]})
            if action == "tree":
                return self._send(200, [{"type": "file", "path": p, "size": len(c), "oid": hashlib.sha1(c).hexdigest()}
                                        for p, c in sorted(files.items())])
        if parts[0] == "datasets" and len(parts) > 5 and parts[3] == "resolve":  # datasets/OWNER/NAME/resolve/REV/PATH
            _, repo = self._repo(parts[1:3])
            commit = repo.resolve(parts[4]) if repo else None
            content = repo.commits[commit].get("/".join(parts[5:])) if commit else None
            if content is None:
                return self._not_found("EntryNotFound")
            return self._send(200, body=content, headers={"X-Repo-Commit": commit, "ETag": f'"{hashlib.sha256(content).hexdigest()}"'})
        self._send(404, {"error": f"not served: {path}"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        self.server.requests.append(f"POST {path}")
        body = self._body()
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts == ["api", "validate-yaml"]:
            return self._send(200, {"errors": [], "warnings": []})
        if parts == ["api", "repos", "create"]:
            request = json.loads(body)
            repo_id = f"{request['organization']}/{request['name']}"
            if repo_id in self.server.repos:
                return self._send(409, {"error": "You already created this dataset repo", "url": f"{self.server.url}/datasets/{repo_id}"})
            self.server.repos[repo_id] = repo = HubRepo()
            repo.commit({".gitattributes": b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"}, "initial commit")
            return self._send(200, {"url": f"{self.server.url}/datasets/{repo_id}"})
        repo_id, repo = self._repo(parts[2:4])
        if repo is None:
            return self._not_found("RepoNotFound")
        action = parts[4]
        if action == "preupload":
            files = json.loads(body)["files"]
            return self._send(200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]})
        if action == "commit":
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
            header = lines[0]["value"]
            if header.get("parentCommit") not in (None, repo.branches["main"]):
                return self._send(412, {"error": "A commit has happened since. Please refresh and try again."})
            files = dict(repo.commits[repo.branches["main"]])
            for line in lines[1:]:
                if line["key"] == "file":
                    files[line["value"]["path"]] = base64.b64decode(line["value"]["content"])
                elif line["key"] == "deletedFile":
                    del files[line["value"]["path"]]
            oid = repo.commit(files, header["summary"])
            return self._send(200, {"commitUrl": f"{self.server.url}/datasets/{repo_id}/commit/{oid}", "commitOid": oid})
        if action == "tag":
            tag = json.loads(body)["tag"]
            if tag in repo.tags:
                return self._send(409, {"error": f"Tag {tag} already exists"})
            repo.tags[tag] = repo.resolve(parts[5])
            return self._send(200, {})
        self._send(404, {"error": f"not served: {path}"})


@pytest.fixture
def hub():
    server = LoopbackHub()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(hub) -> HfApi:
    return HfApi(endpoint=hub.url, token="hf_loopback")


@pytest.fixture(scope="module")
def release(imported_dir, tmp_path_factory) -> Path:
    return pack_sample_and_demo(imported_dir, tmp_path_factory.mktemp("release") / "awm-envs")


def test_plan_for_a_new_repo(release, api):
    plan = plan_push(release, REPO, api)
    manifest = read_manifest(release)
    assert plan.create_repo and plan.parent_commit is None and plan.tag == "v1.0.0" and plan.deletions == ()
    assert plan.uploads == ("README.md", "manifest.json", *sorted(manifest.files))
    assert plan.describe() == [
        "create dataset repo awm/envs",
        "commit to awm/envs@main: 'awm-release 1.0.0: 9 environments, 60 tasks'",
        *(f"  upload {p}" for p in plan.uploads),
        "tag the commit v1.0.0",
    ]


def test_push_commits_once_tags_the_version_and_refuses_to_reuse_it(release, hub, api):
    commit = execute_push(plan_push(release, REPO, api), api)
    repo = hub.repos[REPO]
    assert repo.tags == {"v1.0.0": commit} and repo.branches["main"] == commit
    assert len(repo.commits) == 2  # the repo's initial commit, then exactly one for the release
    pushed = repo.commits[commit]
    for name in ("README.md", "manifest.json", *read_manifest(release).files):
        assert pushed[name] == (release / name).read_bytes(), name
    with pytest.raises(ReleaseError, match=f"tag v1.0.0 already exists \\(commit {commit[:12]}\\).*new --version"):
        plan_push(release, REPO, api)
    assert len(repo.commits) == 2


def test_a_new_version_replaces_stale_shards_and_keeps_other_files(release, imported_dir, hub, api, tmp_path):
    execute_push(plan_push(release, REPO, api), api)
    repo = hub.repos[REPO]
    head = repo.branches["main"]
    repo.commit({**repo.commits[head], "data/envs/environments-00000-of-00002.parquet": b"stale", "LICENSE": b"mine"}, "by hand")
    smaller = tmp_path / "v1.1"
    pack_release([imported_dir], smaller, PackOptions(version="1.1.0", progress=False))
    plan = plan_push(smaller, REPO, api)
    assert not plan.create_repo and plan.parent_commit == repo.branches["main"]
    assert plan.deletions == ("data/envs/environments-00000-of-00002.parquet",)
    commit = execute_push(plan, api)
    files = repo.commits[commit]
    assert "LICENSE" in files and "data/envs/environments-00000-of-00002.parquet" not in files
    assert files["manifest.json"] == (smaller / "manifest.json").read_bytes()
    assert repo.tags["v1.0.0"] == head and repo.tags["v1.1.0"] == commit


def test_a_push_planned_before_someone_elses_commit_is_refused(release, imported_dir, hub, api, tmp_path):
    execute_push(plan_push(release, REPO, api), api)
    newer = tmp_path / "v1.1"
    pack_release([imported_dir], newer, PackOptions(version="1.1.0", progress=False))
    plan = plan_push(newer, REPO, api)
    repo = hub.repos[REPO]
    theirs = repo.commit({**repo.commits[repo.branches["main"]], "notes.md": b"theirs"}, "someone else")
    with pytest.raises(ReleaseError, match="commit was refused .*run the push again"):
        execute_push(plan, api)
    assert repo.branches["main"] == theirs and "v1.1.0" not in repo.tags


def test_folders_changed_after_packing_are_refused(release, api, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(release, copy)
    (copy / "data/tasks/train-00000-of-00001.parquet").write_bytes(b"not parquet")
    (copy / "data/envs/extra.parquet").write_bytes(b"")
    with pytest.raises(ReleaseError) as caught:
        plan_push(copy, REPO, api)
    message = str(caught.value)
    assert "train-00000-of-00001.parquet: sha256" in message and "data/envs/extra.parquet: not in the manifest" in message
    with pytest.raises(ReleaseError, match="not a dataset folder"):
        plan_push(tmp_path, REPO, api)
    with pytest.raises(ReleaseError, match="give the owner too"):
        plan_push(release, "envs", api)


def _load_in_subprocess(hub_cache: Path, endpoint: str, offline: bool, requests: list[tuple]) -> list[dict]:
    """Each (repo, revision, bundle_ids) loaded in a fresh interpreter, as a user runs it: the Hub settings come
    from the environment. Returns per request {"ok": {bundle_id: sha256}} or {"error": "Type: message"}."""
    code = """
import json, sys
from awm_release import load_bundles
for repo, revision, ids in json.loads(sys.argv[1]):
    try:
        loaded = load_bundles(repo, revision=revision, bundle_ids=ids, progress=False, trust_remote_code=True)
        print(json.dumps({"ok": {k: v.sha256 for k, v in loaded.items()}}))
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
"""
    env = {**os.environ, "HF_HOME": str(hub_cache.parent), "HF_HUB_CACHE": str(hub_cache), "HF_ENDPOINT": endpoint,
           "HF_HUB_OFFLINE": "1" if offline else "0", "HF_HUB_DISABLE_TELEMETRY": "1"}
    done = subprocess.run([sys.executable, "-c", code, json.dumps(requests)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_load_bundles_from_the_hub_then_offline_from_its_cache(release, hub, api, tmp_path):
    execute_push(plan_push(release, REPO, api), api)
    manifest = read_manifest(release)
    cache = tmp_path / "hf" / "hub"
    one = (REPO, "v1.0.0", ["e_commerce_33"])
    online = _load_in_subprocess(cache, hub.url, False, [
        one, (REPO, "v9.9.9", None), ("awm/other", None, None), (REPO, "v1.0.0", ["bookstore"])])
    assert online[0] == {"ok": {"e_commerce_33": manifest.bundles["e_commerce_33"].sha256}}
    assert online[1]["error"].startswith("ReleaseError: awm/envs@v9.9.9: the dataset has no revision 'v9.9.9'")
    assert online[2]["error"].startswith("ReleaseError: awm/other@main: no such dataset repo on the Hub")
    assert online[3]["error"].startswith("ReleaseError: awm/envs@v1.0.0 has 9 bundle(s), none named 'bookstore' (did you mean bookstore_1")
    snapshot = next((cache / "datasets--awm--envs" / "snapshots").iterdir())
    assert (cache / "datasets--awm--envs" / "refs" / "v1.0.0").read_text() == snapshot.name
    assert sorted(p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if not p.is_dir()) == [
        manifest.bundles["e_commerce_33"].file, "manifest.json"]  # one bundle fetches one shard, nothing else
    hub.shutdown()  # from here on the Hub is gone
    offline = _load_in_subprocess(cache, hub.url, True, [one, (REPO, "v1.0.0", None)])
    assert offline[0] == online[0]
    assert len(offline[1]["ok"]) == 9 and offline[1]["ok"] == {b: e.sha256 for b, e in manifest.bundles.items()}
    missing = _load_in_subprocess(tmp_path / "empty" / "hub", hub.url, True, [one])
    assert missing[0]["error"].startswith("ReleaseError: awm/envs@v1.0.0: not in the Hugging Face cache")


def test_cli_push_dry_run_prints_the_plan_and_a_dead_hub_is_one_line(release, hub, monkeypatch):
    from huggingface_hub import constants
    from typer.testing import CliRunner

    from awm_release.cli import app

    runner = CliRunner()
    monkeypatch.setattr(constants, "ENDPOINT", hub.url)
    planned = runner.invoke(app, ["release", "push", str(release), "--repo", REPO, "--dry-run"])
    assert planned.exit_code == 0, planned.output
    assert "create dataset repo awm/envs" in planned.stdout and "tag the commit v1.0.0" in planned.stdout
    assert REPO not in hub.repos  # a dry run sends nothing
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    dead = runner.invoke(app, ["release", "push", str(release), "--repo", REPO])
    assert dead.exit_code == 2 and dead.stderr.count("\n") == 1
    assert dead.stderr.startswith("error: awm/envs: listing its tags: the Hub cannot be reached (ConnectError")


def test_hub_code_needs_consent_and_a_shard_changed_with_its_manifest_entry_is_refused(release, imported_dir, hub, api, tmp_path):
    from awm_release import load_bundles
    from awm_release.bundle_io import read_bundles, write_bundle

    with pytest.raises(ReleaseError, match="--trust-remote-code"):
        load_bundles(REPO, revision="v1.0.0")  # refused before anything is downloaded
    execute_push(plan_push(release, REPO, api), api)
    # Someone with write access changes e_commerce_33's shard and its manifest entry, but not the per-file sha256.
    edited = tmp_path / "edited"
    for bundle in read_bundles([imported_dir]).values():
        write_bundle(bundle.model_copy(update={"description": "forged"}) if bundle.bundle_id == "e_commerce_33" else bundle, edited)
    forged = pack_sample_and_demo(edited, tmp_path / "forged" / "awm-envs")
    manifest, forged_manifest = (json.loads((folder / "manifest.json").read_text()) for folder in (release, forged))
    entry = forged_manifest["bundles"]["e_commerce_33"]
    assert entry["file"] == manifest["bundles"]["e_commerce_33"]["file"] and entry["sha256"] != manifest["bundles"]["e_commerce_33"]["sha256"]
    manifest["bundles"]["e_commerce_33"] = entry
    repo = hub.repos[REPO]
    files = dict(repo.commits[repo.branches["main"]])
    files.update({entry["file"]: (forged / entry["file"]).read_bytes(), "manifest.json": json.dumps(manifest).encode()})
    repo.tags["v1.0.1"] = repo.commit(files, "forged")
    outcome = _load_in_subprocess(tmp_path / "hf" / "hub", hub.url, False, [(REPO, "v1.0.1", ["e_commerce_33"])])
    assert outcome[0]["error"].startswith(f"ReleaseError: {REPO}@v1.0.1: {entry['file']} does not match the sha256"), outcome
