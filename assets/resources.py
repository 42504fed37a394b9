"""The settings every asset reads, as a Dagster resource: where raw files, state and the published
file live, and how raw files are read."""

from __future__ import annotations

from dagster import ConfigurableResource

from .lib.settings import Settings


class PipelineSettings(ConfigurableResource, Settings):
    """`Settings` (assets/lib/settings.py: fields, defaults, what they mean) as the resource each
    asset receives; the UI shows it, a variable the deployment set by its name
    (`pipelines.settings.Deployment.resource`)."""
