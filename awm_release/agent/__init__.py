"""The AWM agent: the protocol shared by evaluation and training, episodes against awm-serve, and `awm eval`.

Modules, one job each: `protocol` (prompt, meta-tools, turn parsing, history window; no I/O), `model` (the
OpenAI-compatible endpoint), `local_server` (an awm-serve started for a run), `episode` (one episode), `outcomes` (the
taxonomy), `tasks` (a dataset split), `results` (an evaluation's folder), `eval` (running one), `summary`,
`compare`, `plot`, `single` (`awm agent`) and `cli`.
"""

from awm_release.agent.episode import Episode, run_episode
from awm_release.agent.model import Endpoint, ModelClient
from awm_release.agent.outcomes import OUTCOMES, classify
from awm_release.agent.protocol import (
    META_TOOLS, PROTOCOL_VERSION, SYSTEM_PROMPT, Conversation, ParsedTurn, ProtocolConfig, SamplingConfig, parse_turn)
from awm_release.agent.summary import pass_at_k

__all__ = [
    "Conversation", "Endpoint", "Episode", "META_TOOLS", "ModelClient", "OUTCOMES", "PROTOCOL_VERSION", "ParsedTurn",
    "ProtocolConfig", "SYSTEM_PROMPT", "SamplingConfig", "classify", "parse_turn", "pass_at_k", "run_episode",
]
