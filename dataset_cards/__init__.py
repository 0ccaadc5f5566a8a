"""Card templates (Jinja2) for what awm-release publishes, shipped as package data so installs find them."""

from pathlib import Path

TEMPLATES = Path(__file__).parent
