"""The `motion_gate` config section: the gate's knobs and each camera's motion masks."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from posed.strict import LAX_CONTAINER, Name, StrictModel

# Bounds keep a hand-written config from costing the gate more than the estimator it saves.
MAX_MASKS_PER_CAMERA = 32
MAX_MASK_POINTS = 100

Coordinate = Annotated[float, Field(ge=0, le=1)]
# A YAML list of two numbers; the numbers themselves stay strict (no '0.1' text).
MaskPoint = Annotated[tuple[Coordinate, Coordinate], LAX_CONTAINER]


class MotionMask(StrictModel):
    """A polygon of the image where motion is ignored (a TV, a curtain, a tree outside a window)."""

    points: list[MaskPoint] = Field(
        min_length=3,
        max_length=MAX_MASK_POINTS,
        description="Corners as [x, y], normalized to 0..1 of the image width and height (so a mask "
        f"survives a resolution change); 3 to {MAX_MASK_POINTS} points. The preview page draws them.",
    )


class MotionGateConfig(StrictModel):
    """When the pose estimator may skip a frame because nothing in view moved."""

    enabled: bool = Field(
        True,
        description="Gate the estimator on motion while nobody is tracked; false runs it on every frame "
        "(`--no-gate` does the same for one run).",
    )
    keepalive_seconds: float = Field(
        1.0,
        ge=0.1,
        le=60,
        description="With no motion, the estimator still runs once per this many seconds, so someone "
        "already standing still is found. 0.1 to 60.",
    )
    hold_seconds: float = Field(
        2.0,
        ge=0,
        le=600,
        description="After the last frame with a person, every frame still runs for this many seconds "
        "(a person missed for a moment is looked for at once). 0 to 600.",
    )
    width: int = Field(
        160,
        ge=32,
        le=640,
        description="Width in pixels of the grey copy motion is measured on (the height follows the "
        "image); smaller is cheaper and averages out more sensor noise. 32 to 640.",
    )
    noise_multiple: float = Field(
        4.0,
        ge=1,
        le=50,
        description="A pixel has changed when it differs from the background by more than this many "
        "times the frame's own noise (measured on every frame), so a grainy night image needs a larger "
        "change than a clean one. 1 to 50.",
    )
    min_delta: int = Field(
        8,
        ge=1,
        le=255,
        description="A pixel has changed only when it differs by at least this many grey levels "
        "(0-255), however clean the image. 1 to 255.",
    )
    min_area: float = Field(
        0.002,
        gt=0,
        le=0.5,
        description="Motion needs one connected changed region covering at least this fraction of the "
        "unmasked image (0.002 is about a hand at 5 m in a 90 degree view). Above 0, up to 0.5.",
    )
    background_seconds: float = Field(
        1.0,
        ge=0.05,
        le=600,
        description="Time constant, in seconds, of the running-average background: how fast a moved "
        "chair or a light switched on stops counting as motion. 0.05 to 600.",
    )
    masks: dict[Name, list[MotionMask]] = Field(
        default_factory=dict,
        max_length=64,
        description="Per camera name, polygons where motion is ignored; at most 64 cameras and "
        f"{MAX_MASKS_PER_CAMERA} masks each. A person inside a mask is still seen once the estimator runs.",
    )

    @model_validator(mode="after")
    def _few_masks(self) -> MotionGateConfig:
        for camera, masks in self.masks.items():
            if len(masks) > MAX_MASKS_PER_CAMERA:
                raise ValueError(
                    f"masks.{camera}: {len(masks)} masks; at most {MAX_MASKS_PER_CAMERA} per camera"
                )
        return self
