"""The settings every asset reads: where raw files, state and the published file live."""

from __future__ import annotations

from dagster import ConfigurableResource

from .lib.settings import Settings


class PipelineSettings(ConfigurableResource, Settings):
    """Folders and options of one deployment, as the resource each asset receives (the fields,
    paths and options are `Settings`'; the UI shows them, with environment variables by name)."""
