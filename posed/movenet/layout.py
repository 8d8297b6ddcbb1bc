"""Recognise a MoveNet file from its tensors, whichever export the user brings.

- single pose (Lightning 192x192, Thunder 256x256): one output [1, 1, 17, 3]
  (y, x, score per COCO keypoint, normalised to the input);
- MultiPose: one output [1, N, 56] (N people: 17 x (y, x, score), then the box
  ymin, xmin, ymax, xmax and its score); the input's height and width are
  dynamic (a file reads them as 1 x 1) or fixed.
The input is [1, H, W, 3] of uint8 (Google's .tflite releases), int32 (the
TF.js and SavedModel graphs) or float32, always raw 0-255 pixel values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from posed.backend import TensorSpec
from posed.errors import ModelError

NUM_KEYPOINTS = 17
VALUES_PER_KEYPOINT = 3  # y, x, score
BOX_VALUES = 5  # ymin, xmin, ymax, xmax, score
INSTANCE_VALUES = NUM_KEYPOINTS * VALUES_PER_KEYPOINT + BOX_VALUES  # 56

Kind = Literal["single", "multi"]
InputDtype = Literal["uint8", "int32", "float32"]
INPUT_DTYPES: tuple[InputDtype, ...] = ("uint8", "int32", "float32")


@dataclass(frozen=True, slots=True)
class MoveNetLayout:
    kind: Kind
    input_dtype: InputDtype
    input_height: int  # 1 x 1 for a MultiPose file with a dynamic input
    input_width: int
    output: str  # the output tensor's name
    max_people: int  # 1 for single pose

    @property
    def dynamic_input(self) -> bool:
        return self.kind == "multi" and (self.input_height, self.input_width) == (1, 1)

    def describe(self) -> str:
        size = (
            "any size (multiples of 32)" if self.dynamic_input else f"{self.input_height}x{self.input_width}"
        )
        what = (
            "MoveNet single pose" if self.kind == "single" else f"MoveNet MultiPose, {self.max_people} people"
        )
        return f"{what}, {self.input_dtype} input {size}"


def is_movenet_output(outputs: Sequence[TensorSpec]) -> bool:
    """True when the outputs look like MoveNet's, single or multi (for routing a file to this family)."""
    if len(outputs) != 1:
        return False
    shape = outputs[0].shape
    single = shape == (1, 1, NUM_KEYPOINTS, VALUES_PER_KEYPOINT)
    multi = len(shape) == 3 and shape[0] == 1 and shape[1] >= 1 and shape[2] == INSTANCE_VALUES
    return single or multi


def detect_layout(inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> MoveNetLayout:
    """The layout of a MoveNet model, or a ModelError saying why it is not one posed can run."""
    found = ", ".join(f"{s.name} {list(s.shape)} {s.dtype}" for s in (*inputs, *outputs))
    if len(inputs) != 1 or len(inputs[0].shape) != 4 or inputs[0].shape[0] != 1 or inputs[0].shape[3] != 3:
        raise ModelError(f"not a MoveNet model: expected one image input [1, H, W, 3]; found {found}")
    if not is_movenet_output(outputs):
        raise ModelError(
            "not a MoveNet model: expected one output [1, 1, 17, 3] (single pose) or [1, N, 56] "
            f"(MultiPose); found {found}"
        )
    image, output = inputs[0], outputs[0]
    if image.dtype not in INPUT_DTYPES:
        raise ModelError(
            f"MoveNet input {image.name} has type {image.dtype}; posed feeds uint8, int32 or float32 pixels"
        )
    if output.dtype != "float32":
        raise ModelError(f"MoveNet output {output.name} has type {output.dtype}; expected float32")
    kind: Kind = "single" if len(output.shape) == 4 else "multi"
    _, height, width, _ = image.shape
    dtype = next(d for d in INPUT_DTYPES if d == image.dtype)
    return MoveNetLayout(
        kind=kind,
        input_dtype=dtype,
        input_height=height,
        input_width=width,
        output=output.name,
        max_people=1 if kind == "single" else output.shape[1],
    )
