"""Recognise what a .tflite file is from its tensors: BlazePose, PoseNet or MoveNet, and which layout.

Used by `posed models import` to accept a user's file or say why not. BlazePose
is recognised here from its output shapes; PoseNet and MoveNet by their
pipelines' own layout modules, so a file accepted here is one the pipeline runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from posed.errors import ModelError
from posed.tflite_file import EDGETPU_CUSTOM_OP, ModelInfo

LayoutKind = Literal[
    "blazepose-landmarks",
    "blazepose-detector",
    "posenet-coral",
    "posenet-tflite",
    "movenet-single",
    "movenet-multi",
]
POSENET_DECODER_OP = "PosenetDecoderOp"
RUNNABLE_CUSTOM_OPS = frozenset({EDGETPU_CUSTOM_OP})


@dataclass(frozen=True, slots=True)
class Layout:
    kind: LayoutKind
    input_size: tuple[int, int]
    dtype: str
    edgetpu: bool
    output_stride: int | None = None

    @property
    def family(self) -> Literal["blazepose", "posenet", "movenet"]:
        if self.kind.startswith("blazepose"):
            return "blazepose"
        return "movenet" if self.kind.startswith("movenet") else "posenet"

    @property
    def keypoints(self) -> Literal["blazepose-33", "coco-17"]:  # MoveNet: COCO's 17, as PoseNet
        return "blazepose-33" if self.family == "blazepose" else "coco-17"

    def describe(self) -> str:
        names = {
            "blazepose-landmarks": "BlazePose landmark model",
            "blazepose-detector": "BlazePose person detector",
            "posenet-coral": "PoseNet, Coral layout (heatmaps, short and mid offsets)",
            "posenet-tflite": "PoseNet, TF Lite layout (heatmaps, offsets, displacements)",
            "movenet-single": "MoveNet single pose (17 keypoints)",
            "movenet-multi": "MoveNet MultiPose (up to 6 people, 17 keypoints and a box each)",
        }
        h, w = self.input_size
        if self.kind == "movenet-multi" and self.input_size == (1, 1):
            return f"{names[self.kind]}, {self.dtype} input of any size (multiples of 32)"
        extra = f", stride {self.output_stride}" if self.output_stride else ""
        tpu = ", compiled for the Edge TPU" if self.edgetpu else ""
        return f"{names[self.kind]}, {self.dtype} input {h}x{w}{extra}{tpu}"


def detect_layout(info: ModelInfo) -> Layout:
    """The layout of a model; ModelError saying why when posed cannot use it."""
    where = str(info.path)
    if POSENET_DECODER_OP in info.custom_ops:
        raise ModelError(f"{where} ends in Coral's {POSENET_DECODER_OP}; remove it first")
    unknown = sorted(set(info.custom_ops) - RUNNABLE_CUSTOM_OPS)
    if unknown:
        raise ModelError(
            f"{where} uses custom operator(s) {', '.join(unknown)}, which neither LiteRT nor OpenVINO "
            "can run; export the model without them"
        )
    if len(info.inputs) != 1 or len(info.inputs[0].shape) != 4 or info.inputs[0].shape[3] != 3:
        seen = [(t.name, t.shape) for t in info.inputs]
        raise ModelError(f"{where}: expected one image input [1, H, W, 3], found {seen}")
    image = info.inputs[0]
    size = (image.shape[1], image.shape[2])
    edgetpu = EDGETPU_CUSTOM_OP in info.custom_ops
    shapes = {t.shape for t in info.outputs}
    if (1, 195) in shapes:
        return Layout("blazepose-landmarks", size, image.dtype, edgetpu)
    if {(1, 2254, 12), (1, 2254, 1)} <= shapes:
        return Layout("blazepose-detector", size, image.dtype, edgetpu)
    from posed.movenet.layout import detect_layout as detect_movenet
    from posed.movenet.layout import is_movenet_output

    if is_movenet_output(info.outputs):
        try:
            movenet = detect_movenet(info.inputs, info.outputs)
        except ModelError as exc:
            raise ModelError(f"{where}: {exc}") from exc
        kind: LayoutKind = "movenet-single" if movenet.kind == "single" else "movenet-multi"
        return Layout(kind, size, image.dtype, edgetpu)
    return _posenet(info, size, image.dtype, edgetpu)


def _posenet(info: ModelInfo, size: tuple[int, int], dtype: str, edgetpu: bool) -> Layout:
    from posed.posenet.layout import detect_layout as detect_posenet

    try:
        posenet = detect_posenet(info.inputs, info.outputs)
    except ModelError as exc:
        raise ModelError(
            f"{info.path} is neither a BlazePose model (landmarks: an output [1, 195]; detector: "
            "[1, 2254, 12] and [1, 2254, 1]), nor a MoveNet model (one output [1, 1, 17, 3] or "
            f"[1, N, 56]), nor a PoseNet model posed can decode: {exc}"
        ) from exc
    kind: LayoutKind = "posenet-coral" if posenet.kind == "coral" else "posenet-tflite"
    return Layout(kind, size, dtype, edgetpu, posenet.stride)
