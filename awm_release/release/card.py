"""The dataset card (`README.md`): a YAML header the Hub reads (configs, license, tags) and a Jinja2 body.

The default template is `dataset_cards/awm-envs.md.j2`, shipped as package data so that a plain
`pip install awm-release` can pack a release; `--card-template` renders another one with the same variables.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awm_release.release.errors import ReleaseError
from dataset_cards import TEMPLATES
from awm_release.release.manifest import Manifest
from awm_release.release.stats import STAT_COLUMNS

if TYPE_CHECKING:
    from huggingface_hub import CardData, DatasetCardData, RepoCard

CARD_FILE = "README.md"  # where the Hub looks for a repo's card, dataset or model
DEFAULT_TEMPLATE = TEMPLATES / "awm-envs.md.j2"
DEFAULT_REPO_ID = "awm/envs"
DEFAULT_LICENSE = "cc-by-4.0"


def card_data(manifest: Manifest, configs: list[dict[str, Any]], license: str) -> DatasetCardData:
    """The YAML header: the configs with their data files, so the stock `load_dataset` needs no loading script."""
    from huggingface_hub import DatasetCardData  # noqa: PLC0415 - the Hub client loads in ~0.2 s: only when packing

    return DatasetCardData(
        pretty_name="Agent World Model environments",
        license=license,
        language=["en"],
        task_categories=["reinforcement-learning", "text-generation"],
        tags=["agents", "tool-use", "reinforcement-learning", "synthetic", "sqlite", "mcp", "agent-world-model"],
        size_categories=[_size_category(len(manifest.bundles))],
        configs=configs,
    )


def render_card(manifest: Manifest, configs: list[dict[str, Any]], *, repo_id: str = DEFAULT_REPO_ID,
                license: str = DEFAULT_LICENSE, template: str | os.PathLike | None = None) -> str:
    """Render the card; the same manifest and options give the same text (no clock, no environment)."""
    from huggingface_hub import DatasetCard  # noqa: PLC0415

    served = sorted(b for b, entry in manifest.bundles.items() if entry.tasks)
    return render_repo_card(
        DatasetCard, card_data(manifest, configs, license), Path(template) if template is not None else DEFAULT_TEMPLATE,
        manifest=manifest,
        repo_id=repo_id,
        example_bundle=served[0] if served else next(iter(sorted(manifest.bundles))),
        stat_columns=STAT_COLUMNS,
        config_names=[c["config_name"] for c in configs],
    )


def render_repo_card(card_class: type[RepoCard], data: CardData, template: Path, **variables: Any) -> str:
    """A Hub card (dataset or model) from a Jinja2 template: `{{ card_data }}` is the YAML header, `variables`
    the rest; a missing or broken template is a ReleaseError naming it."""
    import jinja2  # noqa: PLC0415

    try:
        card = card_class.from_template(data, template_path=str(template), **variables)
    except FileNotFoundError:
        raise ReleaseError(f"card template {template} does not exist; pass an existing Jinja2 file to --card-template") from None
    except jinja2.TemplateError as exc:
        where = f" line {exc.lineno}" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
        raise ReleaseError(f"card template {template}{where}: {exc}; fix the template") from None
    text = str(card)
    return text if text.endswith("\n") else text + "\n"  # jinja2 drops the template's final newline


def _size_category(n: int) -> str:
    """The Hub's size buckets: n<1K, 1K<n<10K, ..."""
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < bound:
            return label
    return "n>1M"
