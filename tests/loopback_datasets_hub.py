"""The loopback Hub of tests/test_release_hub.py, plus the two listings the stock `datasets.load_dataset` asks for
(folder-aware `tree` and `paths-info`), so that README's `load_dataset("awm/envs", revision=...)` runs as written."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, unquote, urlsplit

from tests.test_release_hub import LoopbackHub, _HubHandler


def _entries(files: dict[str, bytes], folder: str, recursive: bool) -> list[dict]:
    """Files and folders under `folder` (its direct children, or everything below it), as the Hub lists them."""
    prefix = f"{folder}/" if folder else ""
    found: dict[str, dict] = {}
    for path, content in sorted(files.items()):
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix):].split("/")
        for depth in range(1, len(parts) if recursive else min(2, len(parts))):
            directory = prefix + "/".join(parts[:depth])
            found.setdefault(directory, {"type": "directory", "path": directory,
                                         "oid": hashlib.sha1(directory.encode()).hexdigest()})
        if recursive or len(parts) == 1:
            found[path] = {"type": "file", "path": path, "size": len(content), "oid": hashlib.sha1(content).hexdigest()}
    return list(found.values())


class _DatasetsHubHandler(_HubHandler):
    def _listing_files(self, parts: list[str]) -> dict[str, bytes] | None:
        _, repo = self._repo(parts[2:4])
        commit = repo.resolve(parts[5]) if repo else None
        return repo.commits[commit] if commit else None

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        if parts[:2] == ["api", "datasets"] and len(parts) > 5 and parts[4] == "tree":
            files = self._listing_files(parts)
            if files is None:
                return self._not_found("RevisionNotFound")
            recursive = parse_qs(url.query).get("recursive", ["false"])[0].lower() == "true"
            return self._send(200, _entries(files, "/".join(parts[6:]), recursive))
        return super().do_GET()

    def do_POST(self) -> None:
        parts = [unquote(p) for p in urlsplit(self.path).path.strip("/").split("/")]
        if parts[:2] == ["api", "datasets"] and len(parts) > 5 and parts[4] == "paths-info":
            everything = {e["path"]: e for e in _entries(self._listing_files(parts) or {}, "", True)}
            wanted = parse_qs(self._body().decode()).get("paths", [])
            return self._send(200, [everything[p] for p in wanted if p in everything])
        return super().do_POST()


@contextlib.contextmanager
def datasets_hub() -> Iterator[LoopbackHub]:
    hub = LoopbackHub()
    hub.RequestHandlerClass = _DatasetsHubHandler
    thread = threading.Thread(target=hub.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        hub.shutdown()
        hub.server_close()
