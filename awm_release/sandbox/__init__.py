"""The boundary around bundle code, and everything that judges it.

Front side (trusted): `launch` starts sandboxed programs (bubblewrap), `seccomp` compiles their filters,
`fork_servers` / `verifier_pool` talk to sandboxed fork servers, `verification` turns a verifier's data into an
outcome, `judge` asks an LLM, `rewards` maps outcomes to rewards. Inside the sandbox: `confine` (the walls a
process raises before running bundle code), `forking` (the fork-server loop), `verifier_child` (the verifier
fork server). Both sides speak `frames` (msgpack). See README, "Threat model".
"""
