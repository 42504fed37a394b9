"""What the report's 数据总结 (assets/lib/narrative.py) counts as large or alarming: the settings
`report_*` (docs/report.md). A module of its own, so that reading the settings, which every
command does first, does not import the rules and the glossary."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationInfo, field_validator


class SummaryRules(BaseModel):
    """What the 数据总结 counts as large or alarming (settings `report_*`, docs/report.md)."""

    large_change: float = Field(default=0.10, gt=0, description="A metric's change counted as large: relative, 0.10 = 10%.")
    top_changes: int = Field(default=3, ge=1, description="Most changes named per comparison (QoQ, YoY).")
    channel_shift: float = Field(
        default=0.02, gt=0, description="A channel's visitor-share change counted as large: 0.02 = 2 percentage points."
    )
    roi_low: float = Field(default=3.0, ge=0, description="Lower end of a paid channel's healthy ROI band.")
    roi_high: float = Field(
        default=5.0, ge=0, validate_default=True, description="Upper end of a paid channel's healthy ROI band."
    )
    late_rate_alarm: float = Field(default=0.05, ge=0, description="A courier's late rate above this is a problem.")
    return_rate_alarm: float = Field(default=0.03, ge=0, description="A courier's return rate above this is a problem.")

    @field_validator("roi_high")
    @classmethod
    def _a_band(cls, high: float, info: ValidationInfo) -> float:
        low = info.data.get("roi_low")
        if low is not None and high < low:
            raise ValueError(f"the ROI band's high end {high} is below its low end {low}")
        return high

    def at_least(self, size: float, threshold: float) -> bool:
        """size ≥ threshold, as the shown numbers read: 0.12 − 0.10 is 2 points, not 1.99999…"""
        return size >= threshold - 1e-9

    @property
    def roi_band(self) -> tuple[float, float]:
        return (self.roi_low, self.roi_high)
