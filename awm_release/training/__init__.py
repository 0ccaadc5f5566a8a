"""Training on AWM environments with verl: data for the trainer, the agent loop, the env-server fleet, model release.

verl itself is not a dependency of awm-release (install `awm-release[train]` next to verl); only the modules that
plug into verl import it, so the rest of the package works without it. The launchers, configs and guide live
in `recipes/verl/`.
"""

AGENT_NAME = "awm_agent"  # the agent loop's name in verl's registry and in every data row
