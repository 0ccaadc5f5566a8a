"""The AWM agent: the protocol shared by evaluation and training, episodes against awm-serve, and `awm eval`.

Modules, one job each: `protocol` (prompt, meta-tools, turn parsing, history window; no I/O), `model` (the
OpenAI-compatible endpoint), `local_server` (an awm-serve started for a run), `episode` (one episode), `outcomes` (the
taxonomy), `tasks` (a dataset split), `results` (an evaluation's folder), `eval` (running one), `summary`,
`compare`, `plot`, `single` (`awm agent`) and `cli`.
"""

from awm_release.lazy_exports import lazy_exports

_EXPORTS = {
    "Episode": "awm_release.agent.episode", "run_episode": "awm_release.agent.episode",
    "Endpoint": "awm_release.agent.model", "ModelClient": "awm_release.agent.model",
    "OUTCOMES": "awm_release.agent.outcomes", "classify": "awm_release.agent.outcomes",
    **dict.fromkeys(["Conversation", "META_TOOLS", "PROTOCOL_VERSION", "ParsedTurn", "ProtocolConfig", "SYSTEM_PROMPT",
                     "SamplingConfig", "parse_turn"], "awm_release.agent.protocol"),
    "pass_at_k": "awm_release.agent.summary",
}

__all__ = sorted(_EXPORTS)

# Imported on first use: the viewer (inside awm-serve) reads run folders through agent.results without the OpenAI client.
__getattr__ = lazy_exports(__name__, _EXPORTS)
