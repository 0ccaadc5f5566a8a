"""The Ray worker setup hook the verl launchers install: AWM's trainer as verl's "sync" trainer, in every worker.

`+ray_kwargs.ray_init.runtime_env.worker_process_setup_hook=awm_release.training.verl_setup.install` makes Ray
call `install` when each worker process of the job starts. It registers a post-import hook (wrapt's), so that
AWMSyncTrainer replaces verl's "sync" entry once `verl.trainer.ppo.v1` has been imported in that worker, which
TaskRunnerV1 does just before it looks the trainer up. Workers that never import verl's trainers (vLLM servers,
the awm-serve fleet, TransferQueue storage) pay nothing: this module imports only wrapt.
"""

from __future__ import annotations

import wrapt

TRAINERS_MODULE = "verl.trainer.ppo.v1"


def install() -> None:
    wrapt.register_post_import_hook("awm_release.training.verl_trainer:register", TRAINERS_MODULE)
