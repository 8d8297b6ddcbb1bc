"""One exercise's definition: a measure moving between a start and a far position. Validators are pure.

The built-in exercises (posed.events.builtin) are written in this form, and so are a user's own.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from posed.events.conditions import Condition, Measure
from posed.strict import StrictModel


class ExerciseConfig(StrictModel):
    """An exercise: one measure moving between a start and a far position, with hysteresis."""

    measure: Measure = Field(description="What moves during a rep, e.g. {angle: [hip, knee, ankle]}.")
    start_above: float | None = Field(
        None, ge=-1000, le=1000, description="The start position: the measure above this. From -1000 to 1000."
    )
    start_below: float | None = Field(
        None, ge=-1000, le=1000, description="The start position: the measure below this. From -1000 to 1000."
    )
    far_above: float | None = Field(
        None, ge=-1000, le=1000, description="The far position: the measure above this. From -1000 to 1000."
    )
    far_below: float | None = Field(
        None, ge=-1000, le=1000, description="The far position: the measure below this. From -1000 to 1000."
    )
    require: list[Condition] = Field(
        default_factory=list,
        max_length=8,
        description="Conditions that must all hold at the far position for the rep to count "
        "(e.g. the body level for a push-up).",
    )

    @model_validator(mode="after")
    def _thresholds(self) -> ExerciseConfig:
        given = {
            k
            for k in ("start_above", "start_below", "far_above", "far_below")
            if getattr(self, k) is not None
        }
        if given == {"start_above", "far_below"}:
            if self.far_below >= self.start_above:  # type: ignore[operator]
                raise ValueError("far_below must be less than start_above (the gap is the hysteresis)")
        elif given == {"start_below", "far_above"}:
            if self.far_above <= self.start_below:  # type: ignore[operator]
                raise ValueError("far_above must be greater than start_below (the gap is the hysteresis)")
        else:
            raise ValueError("give start_above with far_below, or start_below with far_above")
        if self.measure.side == "one":
            raise ValueError("an exercise's measure takes side both, either, left or right, not one")
        return self

    @property
    def decreasing(self) -> bool:
        """True when a rep moves the measure down (start above, far below)."""
        return self.start_above is not None
