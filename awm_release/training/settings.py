"""The `awm` section of a verl trainer config: every AWM setting of a run, read by the agent loop and the trainer.

The agent loop's registry YAML (recipes/verl/config/awm_agent_loop.yaml) gives defaults; the trainer config's
`awm` section (`+awm.history_window=3`, ... in recipes/verl/common.sh) overrides them. One dataclass, checked
once, so that a misspelled key or a setting that cannot work fails at the first rollout with a message that
says what to set, not somewhere in the middle of a step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from awm_release.release.load import is_hub_repo_id

VERIFY_MODES = ("code", "sql")
UPDATE_UNITS = ("rollout", "sample")


@dataclass(frozen=True)
class AWMSettings:
    """What the AWM agent loop and trainer do; defaults are the paper's (arXiv 2602.10090)."""

    history_window: int = 3  # turns kept after the pinned prefix; 0 keeps every turn: plain multi-turn training
    verify_mode: str = "code"  # code: verifier code; sql: verifier facts judged by an LLM (partial credit 0.1)
    update_unit: str = "rollout"  # rollout: mini-batches count rollouts, each weighs the same; sample: verl's own
    max_tool_result_chars: int = 16_000  # longer tool results are cut with a marker; 0: never cut
    dataset: str = "awm/envs"  # the release trained on (Hub id, recorded in the model card)
    revision: str | None = None
    release_dir: str | None = None  # a local copy of it (`awm train data`), which the per-node servers read
    trust_remote_code: bool = False  # consent to the servers executing a Hub dataset's code (without release_dir)
    env_server_url: str | None = None  # one awm-serve for every rollout; None: one per Ray node (env_fleet.py)
    server_workers: int = 16  # worker processes of each node's awm-serve
    judge_base_url: str | None = None  # sql mode: the OpenAI-compatible endpoint of the judge (e.g. vLLM)
    judge_model: str | None = None
    session_concurrency: int = 64  # session creations in flight per agent-loop worker

    @classmethod
    def resolve(cls, defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> AWMSettings:
        """The settings from the YAML's `defaults` and the trainer config's `overrides`; ValueError says what is wrong."""
        known = [f.name for f in fields(cls)]
        values = {**defaults, **{k: v for k, v in (overrides or {}).items()}}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"awm.{unknown[0]}: unknown AWM setting; known: {', '.join(known)}")
        window = values.get("history_window", cls.history_window)
        if str(window).lower() == "all":
            window = 0
        if not isinstance(window, int) or isinstance(window, bool) or window < 0:
            raise ValueError(f"awm.history_window={window!r}: give a number of turns (the paper uses 3) or 'all'")
        settings = cls(**{**values, "history_window": window})
        settings._check()
        return settings

    def _check(self) -> None:
        if self.verify_mode not in VERIFY_MODES:
            raise ValueError(f"awm.verify_mode={self.verify_mode!r}: use 'code' (verifier code) or 'sql' (an LLM judge)")
        if self.update_unit not in UPDATE_UNITS:
            raise ValueError(f"awm.update_unit={self.update_unit!r}: use 'rollout' (the paper's mini-batches and "
                             "weights) or 'sample' (verl's: every turn sample counts and weighs by its tokens)")
        for name in ("session_concurrency", "server_workers"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"awm.{name}={getattr(self, name)!r}: give a whole number of at least 1")
        if not isinstance(self.max_tool_result_chars, int) or self.max_tool_result_chars < 0:
            raise ValueError(f"awm.max_tool_result_chars={self.max_tool_result_chars!r}: give a number of characters, "
                             "or 0 to never cut tool results")
        if (self.judge_base_url is None) != (self.judge_model is None):
            raise ValueError("awm.judge_base_url and awm.judge_model go together: set both (the judge's endpoint and "
                             "model name) or neither")
        if self.verify_mode == "sql" and self.judge_base_url is None and self.env_server_url is None:
            raise ValueError("awm.verify_mode=sql needs an LLM judge for the per-node servers: set awm.judge_base_url "
                             "and awm.judge_model (JUDGE_BASE_URL and JUDGE_MODEL in recipes/verl/common.sh; "
                             "recipes/verl/README.md shows how to serve one with vLLM)")
        if self._serves_hub_dataset and self.trust_remote_code is not True:
            raise ValueError(f"awm.dataset={self.dataset} is a Hub dataset that the per-node servers would download and "
                             "execute: set awm.trust_remote_code=true once you trust it (TRUST_REMOTE_CODE=1 in "
                             "recipes/verl/common.sh), or serve a local copy (awm.release_dir)")

    @property
    def plain(self) -> bool:
        """Plain multi-turn training: the rollout is one sample, its whole conversation."""
        return self.history_window == 0

    @property
    def _serves_hub_dataset(self) -> bool:
        """The per-node servers would load `dataset` from the Hub (no local copy, no shared server)."""
        return not self.release_dir and self.env_server_url is None and is_hub_repo_id(self.dataset)

    def serve_args(self) -> list[str]:
        """`awm-serve` arguments for a node's server: the local release copy if there is one, else the dataset."""
        if self.release_dir:
            source = ["--dataset", self.release_dir]
        else:
            source = ["--dataset", self.dataset, *(["--revision", self.revision] if self.revision else []),
                      *(["--trust-remote-code"] if self._serves_hub_dataset else [])]
        judge = ["--judge-base-url", self.judge_base_url, "--judge-model", self.judge_model] if self.judge_base_url else []
        return [*source, "--workers", str(self.server_workers), *judge]
