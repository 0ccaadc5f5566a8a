"""The split recipe: which environments are held out, and which tasks of the others are kept for validation.

The paper trained on a random 80 % of environments and tasks; its split was never published. Here the split
is part of the data: every choice is a pure function of the seed, the bundle ids and their task counts, so
anyone can recompute it. Each bundle's rank depends only on its own id, so adding bundles never reorders the
others; it can only move the cut.

- Environments that have tasks are ranked by sha256("{seed}/{bundle_id}"); the first 20 % (rounded half
  up) are held out: role `test`, all their tasks in the `test` split. The rest have role `train`.
- In every `train` environment, tasks are ranked by sha256("{seed}/{bundle_id}/{task_idx}"); the first 20 %
  go to `validation`, the rest to `train`. Ten tasks give 8 + 2 in every environment.
- Bundles without tasks (partial AWM-1K scenarios) have nothing to split: role `unsplit`, and they appear
  only in the `envs` config.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from awm_release.bundle import Bundle

ROLE_TRAIN, ROLE_TEST, ROLE_UNSPLIT = "train", "test", "unsplit"
TASK_SPLITS = ("train", "validation", "test")
DEFAULT_SEED = 0


@dataclass(frozen=True)
class SplitRecipe:
    seed: int = DEFAULT_SEED
    test_environment_fraction: float = 0.2
    validation_task_fraction: float = 0.2

    def as_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "test_environment_fraction": self.test_environment_fraction,
            "validation_task_fraction": self.validation_task_fraction,
            "method": "rank by sha256 of '{seed}/{bundle_id}' (environments) and '{seed}/{bundle_id}/{task_idx}' "
                      "(tasks of training environments); the first round-half-up(fraction * n) are held out",
        }


@dataclass
class Splits:
    """Role of every bundle and split of every task, as assigned by one recipe."""

    recipe: SplitRecipe
    roles: dict[str, str] = field(default_factory=dict)  # bundle_id -> train | test | unsplit
    task_splits: dict[str, list[str]] = field(default_factory=dict)  # bundle_id -> split per task_idx

    def task_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(TASK_SPLITS, 0)
        for splits in self.task_splits.values():
            for split in splits:
                counts[split] += 1
        return counts

    def role_counts(self) -> dict[str, int]:
        counts = dict.fromkeys((ROLE_TRAIN, ROLE_TEST, ROLE_UNSPLIT), 0)
        for role in self.roles.values():
            counts[role] += 1
        return counts


def assign_splits(bundles: Iterable[Bundle], recipe: SplitRecipe) -> Splits:
    """Assign roles and task splits; deterministic in the recipe and the bundles' ids and task counts."""
    splits = Splits(recipe)
    by_id = {b.bundle_id: b for b in bundles}
    splittable = sorted((b for b in by_id if by_id[b].tasks), key=lambda b: _rank(recipe.seed, b))
    held_out = set(splittable[:_held_out_count(len(splittable), recipe.test_environment_fraction)])
    for bundle_id in sorted(by_id):
        n_tasks = len(by_id[bundle_id].tasks)
        if not n_tasks:
            splits.roles[bundle_id] = ROLE_UNSPLIT
        elif bundle_id in held_out:
            splits.roles[bundle_id] = ROLE_TEST
            splits.task_splits[bundle_id] = ["test"] * n_tasks
        else:
            splits.roles[bundle_id] = ROLE_TRAIN
            ranked = sorted(range(n_tasks), key=lambda i: _rank(recipe.seed, bundle_id, i))
            validation = set(ranked[:_held_out_count(n_tasks, recipe.validation_task_fraction)])
            splits.task_splits[bundle_id] = ["validation" if i in validation else "train" for i in range(n_tasks)]
    return splits


def _rank(seed: int, *parts: object) -> str:
    return hashlib.sha256("/".join(map(str, (seed, *parts))).encode("utf-8")).hexdigest()


def _held_out_count(n: int, fraction: float) -> int:
    """round-half-up, so 80:20 of 10 tasks is 8:2 and of 3 environments is 2:1 (Python's round() is banker's)."""
    return int(n * fraction + 0.5)
