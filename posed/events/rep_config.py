"""Config of rep counting (`events.reps`): exercises as data. Validators are pure."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from posed.events.builtin import EXERCISES
from posed.events.conditions import Name
from posed.events.exercise_definition import ExerciseConfig
from posed.strict import StrictModel

# An exercise's definition has its own module; its name stays importable from here.
__all__ = ["ExerciseConfig", "RepsConfig"]


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
        custom = info.data.get("custom", {})
        unknown = [n for n in exercises if n not in EXERCISES and n not in custom]
        if unknown:
            valid = sorted({*EXERCISES, *custom})
            raise ValueError(f"unknown exercise {unknown[0]!r}; valid: {', '.join(valid)}")
        if len(set(exercises)) != len(exercises):
            raise ValueError("an exercise is listed twice")
        return exercises

    def definitions(self) -> dict[str, ExerciseConfig]:
        return {name: self.custom.get(name) or EXERCISES[name] for name in self.exercises}
