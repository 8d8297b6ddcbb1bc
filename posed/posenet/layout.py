"""Recognise a PoseNet model's layout from its tensor names and shapes.

Two layouts carry the same information:
- Coral's decoder-less files: uint8 `float_heatmaps` [1,h,w,17],
  `float_short_offsets` [1,h,w,34] and `float_mid_offsets` [1,h,w,64]
  (forward dy, forward dx, backward dy, backward dx; 16 edges each);
- TF Lite's and tfjs's PoseNet: heatmaps [1,h,w,17], offsets [1,h,w,34],
  displacement_fwd and displacement_bwd [1,h,w,32] (16 dy, then 16 dx).
MobileNetV1 takes the image scaled to [-1, 1], ResNet50 the image minus the
ImageNet mean; quantized inputs take the raw pixels. Anything else is refused
with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from posed.backend import TensorSpec
from posed.errors import ModelError

NUM_KEYPOINTS = 17
NUM_EDGES = 16
STRIDES = (8, 16, 32)

Kind = Literal["coral", "tfjs"]
Architecture = Literal["mobilenet_v1", "resnet50"]
InputMode = Literal["uint8", "int8", "float_unit", "float_resnet"]


@dataclass(frozen=True, slots=True)
class PoseNetLayout:
    kind: Kind
    architecture: Architecture
    input_mode: InputMode  # how RGB pixels become the input tensor
    input_height: int
    input_width: int
    grid_height: int
    grid_width: int
    stride: int
    heatmaps: str  # output tensor names
    short_offsets: str
    mid_offsets: tuple[str, ...]  # (mid,) for Coral, (fwd, bwd) for tfjs

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the model input."""
        return (self.input_width, self.input_height)


def detect_layout(
    inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], *, custom_ops: Sequence[str] = ()
) -> PoseNetLayout:
    """The layout of a PoseNet model, or a ModelError saying why it is not one we can use."""
    if any("posenet" in op.lower() for op in custom_ops):
        raise ModelError(
            "this PoseNet file has Coral's PosenetDecoderOp built in, which needs Coral's "
            "posenet_decoder library; use the decoder-less file instead "
            "(project-posenet models/mobilenet/components/*_quant.tflite)"
        )
    described = ", ".join(f"{s.name} {list(s.shape)}" for s in outputs)
    if len(inputs) != 1 or len(inputs[0].shape) != 4 or inputs[0].shape[0] != 1 or inputs[0].shape[3] != 3:
        raise ModelError(
            "not a PoseNet model: expected one image input [1, H, W, 3], found "
            + ", ".join(f"{s.name} {list(s.shape)}" for s in inputs)
        )
    grids = {s.shape[1:3] for s in outputs if len(s.shape) == 4 and s.shape[0] == 1}
    channels = sorted(s.shape[-1] for s in outputs if len(s.shape) == 4)
    if len(grids) != 1 or len(channels) != len(outputs):
        raise ModelError(f"not a PoseNet model: outputs are not maps on one grid ({described})")
    if channels == [17, 34, 64]:
        kind: Kind = "coral"
        by_channels = {s.shape[-1]: s.name for s in outputs}
        heatmaps, short = by_channels[17], by_channels[34]
        mids: tuple[str, ...] = (by_channels[64],)
    elif channels == [17, 32, 32, 34]:
        kind = "tfjs"
        by_channels = {s.shape[-1]: s.name for s in outputs if s.shape[-1] != 32}
        heatmaps, short = by_channels[17], by_channels[34]
        mids = _displacements([s for s in outputs if s.shape[-1] == 32], described)
    else:
        raise ModelError(
            "not a PoseNet model: expected heatmaps (17 channels), short offsets (34) and mid "
            f"offsets (64) or displacements (2 x 32); found {described}"
        )
    (grid_h, grid_w) = next(iter(grids))
    _, height, width, _ = inputs[0].shape
    stride = _stride(height, grid_h, width, grid_w, described)
    names = " ".join(s.name.lower() for s in (*inputs, *outputs))
    architecture: Architecture = "resnet50" if "resnet" in names else "mobilenet_v1"
    return PoseNetLayout(
        kind=kind,
        architecture=architecture,
        input_mode=_input_mode(inputs[0], architecture),
        input_height=height,
        input_width=width,
        grid_height=grid_h,
        grid_width=grid_w,
        stride=stride,
        heatmaps=heatmaps,
        short_offsets=short,
        mid_offsets=mids,
    )


def _displacements(specs: Sequence[TensorSpec], described: str) -> tuple[str, str]:
    fwd = [s.name for s in specs if "fwd" in s.name.lower() or "forward" in s.name.lower()]
    bwd = [s.name for s in specs if "bwd" in s.name.lower() or "backward" in s.name.lower()]
    if len(fwd) != 1 or len(bwd) != 1 or fwd[0] == bwd[0]:
        raise ModelError(
            "PoseNet model with two 32-channel outputs, but their names do not say which is "
            f"displacement_fwd and which displacement_bwd: {described}"
        )
    return (fwd[0], bwd[0])


def _stride(height: int, grid_h: int, width: int, grid_w: int, described: str) -> int:
    # PoseNet grids are (size - 1) / stride + 1; some exports use size / stride.
    for stride in STRIDES:
        if all(g in ((s - 1) // stride + 1, s // stride) for s, g in ((height, grid_h), (width, grid_w))):
            return stride
    raise ModelError(
        f"PoseNet output grid {grid_h}x{grid_w} does not fit input {height}x{width} at output "
        f"stride 8, 16 or 32 ({described})"
    )


def _input_mode(spec: TensorSpec, architecture: Architecture) -> InputMode:
    if spec.dtype == "uint8":
        return "uint8"
    if spec.dtype == "int8":
        return "int8"
    if spec.dtype == "float32":
        return "float_resnet" if architecture == "resnet50" else "float_unit"
    raise ModelError(f"PoseNet input {spec.name} has unsupported type {spec.dtype}")
