"""MediaPipe 0.10.14's legacy Pose on a video, with its per-frame internal streams.

Runs `mediapipe.solutions.pose`'s own graph (pose_landmark_cpu.binarypb, the
same side inputs and calculator options that `mp.solutions.pose.Pose` passes,
frames stamped 33 333 us apart by the legacy `SolutionBase` clock), in tracking
mode with smoothing unless --static, and records for every frame what the
graph computed on the way, so that each stage of posed can be fed MediaPipe's
own inputs and compared with MediaPipe's own outputs.

How: `SolutionBase` accepts a `CalculatorGraphConfig` instead of a binary graph
path. This script takes the canonical (subgraph-expanded) config exactly as
`Pose` builds it, then only ADDS nodes and observed streams:
  - `TensorsToFloatsCalculator` nodes that copy model tensors into
    `std::vector<float>` packets (Python has no getter for `Tensor`), on the
    landmark model's input and on its landmark, presence, heatmap and world
    outputs (taken before the presence gate), and on the detector's input and
    its first output (the boxes and keypoints);
  - observers on existing streams: the ROI used (`pose_rect`), the detection,
    the raw and heatmap-refined crop landmarks, the projected (unfiltered)
    landmarks and auxiliary landmarks, the auxiliary landmarks' smoothing
    scale ROI, the smoothed auxiliary landmarks, the next frame's ROI, the
    final (smoothed) landmarks and world landmarks.
No existing node is touched. The script must not import calculator option
protos that `mediapipe.solutions.pose` does not import: the Python round trip of
the config drops option extensions it does not know, which is why the solution
refines heatmaps with the proto default kernel 9 (posed copies that), and
importing RefineLandmarksFromHeatmapCalculator's proto would change it to 7.

Run with MediaPipe's venv (bench/setup_mediapipe_env.sh):
    bench/.venv-mediapipe/bin/python bench/mediapipe_video_streams.py --model full \
        --out /tmp/mp_squats_full.npz [--video VIDEO] [--check REFERENCE.json] [--static]
--check compares the final landmarks, visibility and world landmarks with a
reference file of ../shared/conformance/mediapipe-0.10.14 (pose_squats.*.json)
and exits 1 unless they are identical; it prints the largest differences.

Output (.npz, F frames; NaN where a stream had no packet on that frame):
  ran_detector (F,) bool        the detector ran on this frame
  roi (F, 5)                    pose_rect used for the crop: x_center, y_center, width, height, rotation
  next_roi (F, 5)               pose_rect_from_landmarks (the next frame's crop)
  aux_scale_roi (F, 5)          poselandmarkfiltering__roi (OBJECT_SCALE_ROI of the smoothing)
  detection (F, 13)             score, box xmin ymin w h, 4 keypoints x y (relative), after NMS
  landmark_pixels (F, 256, 256, 3) uint8: the crop; the model input is pixels * (1/255.f)
  landmark_tensor (F, 195), presence_tensor (F,), heatmap_tensor (F, 64, 64, 39), world_tensor (F, 117)
  raw_crop, refined_crop (F, 39, 5)   x, y, z, visibility, presence in crop units
  unfiltered_landmarks (F, 33, 5), unfiltered_aux (F, 2, 5)   projected to the image, normalised
  aux_landmarks (F, 2, 5)       smoothed auxiliary landmarks
  landmarks (F, 33, 5)          final landmarks (normalised, with visibility and presence)
  unfiltered_world, world (F, 33, 3)  metres
  detector_frames (D,) int, detector_pixels (D, 224, 224, 3) uint8, detector_boxes (D, 2254, 12)
                                for the D frames where the detector ran; the detector's input
                                is fma(pixels, 2/255.f, -1) (OpenCV's convertTo is fused)
The inputs are stored as the uint8 pixels they were made from (a quarter of the
size); the script checks that the formulas above give MediaPipe's float tensors
back bit for bit, and stops if they do not.
  size_wh (2,)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
VIDEO = SHARED / "conformance/tfjs-pose-detection/pose_squats.mp4"
COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}

LM = "poselandmarkbyroicpu__"
SEG = LM + "tensorstoposelandmarksandsegmentation__"
# New vector<float> streams: name -> (tensor vector stream it copies).
FLOAT_TAPS = {
    "tap_landmark_input": LM + "input_tensors",
    "tap_landmark_tensor": SEG + "landmark_tensor",
    "tap_presence_tensor": SEG + "pose_flag_tensor",
    "tap_heatmap_tensor": SEG + "heatmap_tensor",
    "tap_world_tensor": SEG + "world_landmark_tensor",
    "tap_detector_input": "posedetectioncpu__input_tensors",
    # TensorsToFloats reads the first tensor of a vector: the boxes. (Splitting the
    # vector is impossible: SplitTensorVectorCalculator moves tensors out and needs
    # to be their only reader.)
    "tap_detector_boxes": "posedetectioncpu__detection_tensors",
}
# Existing streams observed as protos.
PROTO_STREAMS = {
    "roi": "pose_rect",
    "next_roi": "pose_rect_from_landmarks",
    "aux_scale_roi": "poselandmarkfiltering__roi",
    "detection": "pose_detection",
    "raw_crop": SEG + "raw_landmarks",
    "refined_crop": SEG + "all_landmarks",
    "unfiltered_landmarks": "unfiltered_pose_landmarks",
    "unfiltered_aux": "unfiltered_auxiliary_landmarks",
    "aux_landmarks": "auxiliary_landmarks",
    "landmarks": "pose_landmarks",
    "unfiltered_world": "unfiltered_world_landmarks",
    "world": "pose_world_landmarks",
}
SHAPES = {
    "roi": (5,),
    "next_roi": (5,),
    "aux_scale_roi": (5,),
    "detection": (13,),
    "raw_crop": (39, 5),
    "refined_crop": (39, 5),
    "unfiltered_landmarks": (33, 5),
    "unfiltered_aux": (2, 5),
    "aux_landmarks": (2, 5),
    "landmarks": (33, 5),
    "unfiltered_world": (33, 3),
    "world": (33, 3),
    "landmark_pixels": (256, 256, 3),
    "landmark_tensor": (195,),
    "presence_tensor": (),
    "heatmap_tensor": (64, 64, 39),
    "world_tensor": (117,),
}


def _graph_config(model_complexity: int) -> Any:
    """Pose's canonical graph config, plus the tap nodes."""
    import mediapipe as mp
    from mediapipe.framework import calculator_pb2
    from mediapipe.python._framework_bindings import resource_util, validated_graph_config
    from mediapipe.python.solutions import pose as mp_pose

    root = Path(mp.__file__).resolve().parent.parent
    resource_util.set_resource_dir(str(root))
    validated = validated_graph_config.ValidatedGraphConfig()
    validated.initialize(binary_graph_path=str(root / mp_pose._BINARYPB_FILE_PATH))
    config = calculator_pb2.CalculatorGraphConfig()
    config.ParseFromString(validated.binary_config)

    for tap, source in FLOAT_TAPS.items():
        node = config.node.add()
        node.calculator = "TensorsToFloatsCalculator"
        node.input_stream.append(f"TENSORS:{source}")
        node.output_stream.append(f"FLOATS:{tap}")
    return config


def _rect(proto: Any) -> list[float]:
    return [proto.x_center, proto.y_center, proto.width, proto.height, proto.rotation]


def _landmarks(proto: Any, fields: int) -> list[list[float]]:
    names = ("x", "y", "z", "visibility", "presence")[:fields]
    return [[getattr(mark, name) for name in names] for mark in proto.landmark]


def _detection(proto: Any) -> list[float]:
    box = proto.location_data.relative_bounding_box
    points = [v for p in proto.location_data.relative_keypoints for v in (p.x, p.y)]
    return [proto.score[0], box.xmin, box.ymin, box.width, box.height, *points]


def capture(model: str, video: Path, *, static: bool = False) -> dict[str, Any]:
    """Run the solution's graph on every frame of `video`; the streams as float32 arrays."""
    import cv2
    from mediapipe.python.solution_base import SolutionBase

    complexity = COMPLEXITY[model]
    outputs = [*FLOAT_TAPS, *PROTO_STREAMS.values()]
    # The same side inputs and calculator options as mp.solutions.pose.Pose(...) with its defaults.
    solution = SolutionBase(
        graph_config=_graph_config(complexity),
        side_inputs={
            "model_complexity": complexity,
            "smooth_landmarks": not static,
            "enable_segmentation": False,
            "smooth_segmentation": not static,
            "use_prev_landmarks": not static,
        },
        calculator_params={
            "posedetectioncpu__TensorsToDetectionsCalculator.min_score_thresh": 0.5,
            LM + "tensorstoposelandmarksandsegmentation__ThresholdingCalculator.threshold": 0.5,
        },
        outputs=outputs,
    )
    frames: list[dict[str, Any]] = []
    detector: dict[str, list[Any]] = {"frames": [], "pixels": [], "boxes": []}
    capture_ = cv2.VideoCapture(str(video))
    size: tuple[int, int] | None = None
    try:
        while True:
            ok, bgr = capture_.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            size = (rgb.shape[1], rgb.shape[0])
            result = solution.process({"image": rgb})
            frames.append(_frame(result))
            if result.tap_detector_input is not None:
                detector["frames"].append(len(frames) - 1)
                tensor = np.array(result.tap_detector_input, np.float32).reshape(224, 224, 3)
                detector["pixels"].append(_pixels(tensor, detector=True))
                detector["boxes"].append(np.array(result.tap_detector_boxes, np.float32))
    finally:
        capture_.release()
        solution.close()
    assert size is not None, f"no frames in {video}"
    arrays: dict[str, Any] = {"size_wh": np.array(size, np.int32)}
    arrays["ran_detector"] = np.array([frame["detection"] is not None for frame in frames])
    for name, shape in SHAPES.items():
        if name == "landmark_pixels":
            stack = np.zeros((len(frames), *shape), dtype=np.uint8)
        else:
            stack = np.full((len(frames), *shape), np.nan, dtype=np.float32)
        for number, frame in enumerate(frames):
            if frame[name] is not None:
                stack[number] = np.asarray(frame[name]).reshape(shape)
        arrays[name] = stack
    arrays["detector_frames"] = np.array(detector["frames"], np.int32)
    arrays["detector_pixels"] = np.array(detector["pixels"], np.uint8).reshape(-1, 224, 224, 3)
    arrays["detector_boxes"] = np.array(detector["boxes"], np.float32).reshape(-1, 2254, 12)
    return arrays


def _frame(result: Any) -> dict[str, Any]:
    def get(stream: str) -> Any:
        return getattr(result, stream)

    frame: dict[str, Any] = {}
    for name in ("landmark_tensor", "presence_tensor", "heatmap_tensor", "world_tensor"):
        value = get(f"tap_{name}")
        frame[name] = None if value is None else np.array(value, np.float32)
    value = get("tap_landmark_input")
    frame["landmark_pixels"] = (
        None if value is None else _pixels(np.array(value, np.float32).reshape(256, 256, 3), detector=False)
    )
    for name in ("roi", "next_roi", "aux_scale_roi"):
        proto = get(PROTO_STREAMS[name])
        frame[name] = None if proto is None else _rect(proto)
    proto = get(PROTO_STREAMS["detection"])
    frame["detection"] = None if proto is None else _detection(proto)
    for name in ("raw_crop", "refined_crop", "unfiltered_landmarks", "unfiltered_aux", "aux_landmarks"):
        proto = get(PROTO_STREAMS[name])
        frame[name] = None if proto is None else _landmarks(proto, 5)
    proto = get(PROTO_STREAMS["landmarks"])
    frame["landmarks"] = None if proto is None else _landmarks(proto, 5)
    for name in ("unfiltered_world", "world"):
        proto = get(PROTO_STREAMS[name])
        frame[name] = None if proto is None else _landmarks(proto, 3)
    return frame


def _pixels(tensor: Any, *, detector: bool) -> Any:
    """The uint8 pixels a model input tensor was converted from; raises unless they give it back exactly."""
    f32 = np.float32
    if detector:
        pixels = np.rint((tensor.astype(np.float64) + 1.0) * 127.5).astype(np.uint8)
        # One rounding of p * scale - 1 (exact in double): the fused multiply-add.
        back = (pixels.astype(np.float64) * float(f32(2.0) / f32(255.0)) - 1.0).astype(np.float32)
    else:
        pixels = np.rint(tensor.astype(np.float64) * 255.0).astype(np.uint8)
        back = pixels.astype(np.float32) * (f32(1.0) / f32(255.0))
    if not np.array_equal(back, tensor):
        raise RuntimeError("MediaPipe's input tensor is not the expected conversion of uint8 pixels")
    return pixels


def check(arrays: dict[str, Any], reference: Path) -> bool:
    """Final landmarks, visibility and world landmarks identical to a pose_squats.*.json file."""
    frames = json.loads(reference.read_text())["frames"]
    width, height = (int(v) for v in arrays["size_wh"])
    landmarks = arrays["landmarks"]
    if len(frames) != landmarks.shape[0]:
        print(f"frame count {landmarks.shape[0]} != reference {len(frames)}")
        return False
    # The reference stores pixels as float64 products of the float32 normalised values.
    scale = np.array([width, height], np.float64)
    px = landmarks[..., :2].astype(np.float64) * scale
    expected = np.array([frame["landmarks_px"] for frame in frames])[..., :2]
    visibility = np.array([frame["visibility"] for frame in frames])
    world = np.array([frame["world_landmarks_m"] for frame in frames])
    diffs = {
        "landmarks_px": float(np.abs(px - expected).max()),
        "visibility": float(np.abs(landmarks[..., 3] - visibility).max()),
        "world_m": float(np.abs(arrays["world"] - world).max()),
    }
    print("max abs difference from", reference.name, json.dumps(diffs))
    return max(diffs.values()) == 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=sorted(COMPLEXITY), default="full")
    parser.add_argument("--video", type=Path, default=VIDEO)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--static", action="store_true", help="still-image mode: no tracking or smoothing")
    parser.add_argument("--check", type=Path, help="a pose_squats.*.json to compare the final outputs with")
    args = parser.parse_args(argv)
    arrays = capture(args.model, args.video, static=args.static)
    np.savez(args.out, **arrays)
    detected = int(arrays["ran_detector"].sum())
    print(f"{args.model}: {arrays['roi'].shape[0]} frames, detector on {detected}, written to {args.out}")
    if args.check is not None and not check(arrays, args.check):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
