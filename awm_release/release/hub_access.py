"""Can the Hugging Face Hub be reached now? One quick connection attempt, so that commands needing the Hub fail (or
plan offline) in one line at once, instead of after a library's rounds of retries."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

PROBE_TIMEOUT_S = 3.0


def offline_mode() -> bool:
    """HF_HUB_OFFLINE is set: the Hugging Face libraries read their cache and never the network."""
    from huggingface_hub import constants  # noqa: PLC0415 - deferred: `import awm_release` stays light

    return bool(constants.HF_HUB_OFFLINE)


def hub_unreachable() -> str | None:
    """Why the Hub cannot be used now (offline mode, or no TCP connection to its endpoint, or to the proxy that
    reaches it, within 3 s), in a few words; None when it can."""
    from huggingface_hub import constants  # noqa: PLC0415

    if offline_mode():
        return "HF_HUB_OFFLINE is set"
    endpoint = urlsplit(constants.ENDPOINT)
    host, port = endpoint.hostname or "", endpoint.port or (443 if endpoint.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(endpoint.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        parsed = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host, port, via = parsed.hostname or "", parsed.port or 80, f" (through the proxy {proxy})"
    else:
        via = ""
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
            return None
    except OSError as exc:
        return f"no connection to {constants.ENDPOINT}{via}: {exc.strerror or exc}"


def cached_dataset(repo_id: str) -> bool:
    """Whether the Hugging Face cache holds files of this dataset repo (which HF_HUB_OFFLINE=1 then reads)."""
    from huggingface_hub import constants  # noqa: PLC0415

    return (Path(constants.HF_HUB_CACHE) / f"datasets--{repo_id.replace('/', '--')}").is_dir()


def unreachable_dataset_message(repo_id: str, reason: str) -> str:
    """What to do when a Hub dataset is asked for and the Hub cannot be reached: the three ways that work offline."""
    cache = "it is in the Hugging Face cache" if cached_dataset(repo_id) else "once it has been downloaded"
    return (f"{repo_id}: the Hugging Face Hub cannot be reached ({reason}); pass a local folder written by "
            f"`awm release pack` instead, or set HF_HUB_OFFLINE=1 to read {repo_id} from the cache ({cache}), or "
            "retry with network access")
