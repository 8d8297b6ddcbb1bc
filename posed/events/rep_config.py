"""Config of rep counting (`events.reps`): exercises as data. Validators are pure."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator, model_validator

from posed.events.conditions import Condition, Measure, Name
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


class RepsConfig(StrictModel):
    custom: dict[Name, ExerciseConfig] = Field(
        default_factory=dict,
        description="Your own exercises by name; one with a built-in's name replaces it.",
    )
    exercises: list[str] = Field(
        default_factory=list,
        description="Exercises to count: built-in squat, push_up, jumping_jack, bicep_curl, lunge, "
        "or names defined under `custom`. Empty: no counting.",
    )
    rest_seconds: float = Field(
        30.0, gt=0, le=3600, description="Seconds without a rep that end a set. More than 0, up to 3600."
    )

    @field_validator("exercises")
    @classmethod
    def _known(cls, exercises: list[str], info: ValidationInfo) -> list[str]:
        from posed.events.builtin import EXERCISES

        custom = info.data.get("custom", {})
        unknown = [n for n in exercises if n not in EXERCISES and n not in custom]
        if unknown:
            valid = sorted({*EXERCISES, *custom})
            raise ValueError(f"unknown exercise {unknown[0]!r}; valid: {', '.join(valid)}")
        if len(set(exercises)) != len(exercises):
            raise ValueError("an exercise is listed twice")
        return exercises

    def definitions(self) -> dict[str, ExerciseConfig]:
        from posed.events.builtin import EXERCISES

        return {name: self.custom.get(name) or EXERCISES[name] for name in self.exercises}
