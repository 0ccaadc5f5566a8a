"""Training on AWM environments: data for the trainers, verl's agent loop, settings and trainer, the env-server
fleet, the TRL environment, the GPU smoke verdict, model release.

Neither verl nor TRL is a dependency of awm-release (install `awm-release[train]` next to verl, or
`awm-release[trl]`); only the modules that plug into them import them, so the rest of the package works
without. The launchers, configs and guides live in `recipes/verl/` and `recipes/trl/`.
"""

AGENT_NAME = "awm_agent"  # the agent loop's name in verl's registry and in every data row
