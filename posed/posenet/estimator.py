"""PoseNet on any backend: preprocessing, inference, decoding, pixels of the input image.

The backend only runs the model and hands back raw tensors; dequantization
(with the quantization stored in the file), decoding and the mapping back to
the input image happen here, the same for every backend.
"""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np
import numpy.typing as npt

from posed.backend import (
    ROLE_MAIN,
    Backend,
    BackendConfig,
    InferenceSession,
    OverlappingSession,
    TensorSpec,
    check_outputs,
    open_resized_session,
)
from posed.config.schema import PoseNetOptions
from posed.errors import ClosedError, ModelError
from posed.keypoints import COCO_17
from posed.models.resolve import ResolvedModel
from posed.posenet.decode_multi import DecodedPoses, decode_multiple
from posed.posenet.decode_single import decode_single
from posed.posenet.layout import PoseNetLayout, detect_layout
from posed.posenet.maps import PoseNetMaps
from posed.posenet.preprocess import InputBuilder
from posed.posenet.quantfix import corrected_model
from posed.posenet.resolution import as_height_width, auto_resolution, check_resolution
from posed.tflite_file import read_model_info
from posed.tracking.ids import RUN_IDS, IdSource
from posed.tracking.tracker import PoseTracker
from posed.types import ImageArray, Pose, box_of

log = logging.getLogger(__name__)


class PoseNetEstimator:
    """Owns one inference session; closes it on close() or when the context ends.

    Frames are independent, so with an overlapping session (OpenVINO) the next
    frame can be inferred while this one is decoded: submit() and collect().
    """

    def __init__(
        self,
        name: str,
        session: InferenceSession,
        layout: PoseNetLayout,
        outputs: tuple[TensorSpec, ...],
        options: PoseNetOptions,
        *,
        reopen: _Reopener | None = None,
        ids: IdSource = RUN_IDS,
    ) -> None:
        self._name = name
        self._session: InferenceSession | None = None
        # The same session when it can run in the background. Checked once per session:
        # a runtime Protocol isinstance costs tens of microseconds, too much for every frame.
        self._overlapping: OverlappingSession | None = None
        self.options = options
        self._quant = {spec.name: spec.quantization for spec in outputs}
        # (width, height, timestamp) of the images in flight
        self._submitted: deque[tuple[int, int, float | None]] = deque()
        self._tracker = PoseTracker(options.tracker, ids)
        self._tracked_size: tuple[int, int] | None = None
        self._ready: deque[list[Pose]] = deque()  # poses of runs finished early by a resize
        self._reopen = reopen
        self._frame_size: tuple[int, int] | None = None  # (width, height) `auto` last fitted to
        self._adopt(session, layout)

    def _adopt(self, session: InferenceSession, layout: PoseNetLayout) -> None:
        """Use `session` (owned from now on) with `layout`; buffers follow its size."""
        position = {spec.name: i for i, spec in enumerate(session.outputs)}
        wanted = (layout.heatmaps, layout.short_offsets, *layout.mid_offsets)
        missing = [name for name in wanted if name not in position]
        if missing:
            raise ModelError(
                f"the {session.device} session of {self._name} has no output(s) {', '.join(missing)}"
            )
        self._index = {name: position[name] for name in wanted}
        self.layout = layout
        self._inputs = InputBuilder(layout)
        self._maps = PoseNetMaps(layout.grid_height, layout.grid_width, layout.stride)
        self._session = session
        self._overlapping = session if isinstance(session, OverlappingSession) else None

    @classmethod
    def open(
        cls,
        resolved: ResolvedModel,
        options: PoseNetOptions,
        backend: Backend,
        backend_config: BackendConfig,
        *,
        corrected_dir: Path | None = None,
        ids: IdSource = RUN_IDS,
    ) -> PoseNetEstimator:
        """Open the model's session; Coral's clipping files are swapped for a corrected copy."""
        path = resolved.files["main"]
        info = read_model_info(path)
        try:
            detect_layout(info.inputs, info.outputs, custom_ops=info.custom_ops)
        except ModelError as exc:
            raise ModelError(f"{path}: {exc}") from exc
        usable = corrected_model(path, corrected_dir)
        if usable != path:
            info = read_model_info(usable)
        own = detect_layout(info.inputs, info.outputs, custom_ops=info.custom_ops)
        wanted = options.input_resolution
        size = None if wanted is None or wanted == "auto" else as_height_width(wanted)
        if size is not None:
            check_resolution(*size, own.stride)
        reopen = _Reopener(backend, backend_config, usable, own) if wanted == "auto" else None
        session, layout = _open_at(backend, backend_config, usable, own, size)
        try:
            estimator = cls(resolved.name, session, layout, info.outputs, options, reopen=reopen, ids=ids)
        except BaseException:
            session.close()
            raise
        log.debug(
            "PoseNet %s: %s layout, %s, input %dx%d, stride %d, on %s",
            resolved.name,
            layout.kind,
            layout.architecture,
            layout.input_width,
            layout.input_height,
            layout.stride,
            session.device,
        )
        return estimator

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def keypoint_names(self) -> tuple[str, ...]:
        return COCO_17

    @property
    def devices(self) -> dict[str, str]:
        return {ROLE_MAIN: self._live_session().device}

    def infer(self, image: ImageArray) -> PoseNetMaps:
        """Run the model on `image` and load its outputs into the decoder's maps."""
        self._fit(image)
        return self._load_maps(self._live_session().run(self._inputs(image)))

    def _fit(self, image: ImageArray) -> None:
        """With `input_resolution: auto`, reopen the session at the size that suits this frame.

        Runs only when the frame size changes (the first frame, a camera reopened at
        another resolution). Runs still in flight at the old size are finished first and
        their poses kept for collect(), in order.
        """
        reopen = self._reopen
        frame_size = (int(image.shape[1]), int(image.shape[0]))
        if reopen is None or frame_size == self._frame_size:
            return
        self._frame_size = frame_size
        size = auto_resolution(*frame_size, self.options.auto_pixels or reopen.own_pixels, reopen.own.stride)
        if size == (self.layout.input_height, self.layout.input_width):
            return
        while self._submitted:
            self._ready.append(self._collect_running())
        old = self._live_session()
        session, layout = _open_at(reopen.backend, reopen.config, reopen.path, reopen.own, size)
        old.close()
        self._adopt(session, layout)
        log.info("PoseNet %s: input %dx%d for %dx%d frames (auto)", self._name, *size, *frame_size[::-1])

    def _load_maps(self, raw: tuple[npt.NDArray[np.generic], ...]) -> PoseNetMaps:
        check_outputs(self._name, raw)
        maps, layout, quant = self._maps, self.layout, self._quant
        maps.set_heatmaps(raw[self._index[layout.heatmaps]], quant[layout.heatmaps])
        maps.set_short_offsets(raw[self._index[layout.short_offsets]], quant[layout.short_offsets])
        if layout.kind == "coral":
            (mid,) = layout.mid_offsets
            maps.set_mid_offsets(raw[self._index[mid]], quant[mid])
        else:
            forward, backward = layout.mid_offsets
            maps.set_displacements(
                raw[self._index[forward]], raw[self._index[backward]], quant[forward], quant[backward]
            )
        maps.finish()
        return maps

    def decode(self, maps: PoseNetMaps) -> DecodedPoses:
        """Poses in model-input pixels, as configured (single or multi)."""
        opts = self.options
        if opts.decoding == "single":
            return decode_single(maps)
        return decode_multiple(
            maps,
            max_poses=opts.max_pose_detections,
            score_threshold=opts.score_threshold,
            nms_radius=opts.nms_radius,
        )

    def estimate(self, image: ImageArray, timestamp: float | None = None) -> list[Pose]:
        """Poses in pixels of `image`, each with its person id.

        With a `timestamp` (seconds) poses are tracked from the previous frames;
        without one, the image stands alone and every pose gets a new id.
        """
        decoded = self.decode(self.infer(image))
        height, width = int(image.shape[0]), int(image.shape[1])
        return self.to_image(decoded, width, height, self.identify(decoded, width, height, timestamp))

    @property
    def session(self) -> InferenceSession:
        """The session this estimator owns (benchmarks time it alone); do not close it."""
        return self._live_session()

    @property
    def can_overlap(self) -> bool:
        self._live_session()
        return self._overlapping is not None

    def submit(self, image: ImageArray, timestamp: float | None = None) -> None:
        """Start inferring `image`; collect() returns its poses, tracked at `timestamp` as in estimate()."""
        self._live_overlapping()
        self._fit(image)
        self._live_overlapping().start(self._inputs(image))  # a reopened session may be another object
        self._submitted.append((int(image.shape[1]), int(image.shape[0]), timestamp))

    def collect(self) -> list[Pose]:
        """Poses of the oldest submitted image, in its pixels."""
        if self._ready:
            return self._ready.popleft()
        return self._collect_running()

    def _collect_running(self) -> list[Pose]:
        session = self._live_overlapping()
        if not self._submitted:
            raise RuntimeError(f"collect() without a submitted image ({self._name})")
        width, height, timestamp = self._submitted.popleft()
        decoded = self.decode(self._load_maps(session.wait()))
        return self.to_image(decoded, width, height, self.identify(decoded, width, height, timestamp))

    def identify(self, decoded: DecodedPoses, width: int, height: int, timestamp: float | None) -> list[int]:
        """Person ids of the decoded poses: tracked with a timestamp, new ones without."""
        count = int(decoded.scores.shape[0])
        if timestamp is None:
            return self._tracker.fresh_ids(count)
        if self._tracked_size != (width, height):
            self._tracker.reset()  # another camera size: old positions say nothing about the new frames
            self._tracked_size = (width, height)
        # Tracked in the model's input (the one these poses were decoded at), normalised
        # to 0..1 as tfjs's trackers expect: the same for any input size, before mirroring.
        scale = np.array([1.0 / self.layout.input_width, 1.0 / self.layout.input_height, 1.0])
        return self._tracker.update(decoded.keypoints * scale, decoded.scores, timestamp)

    def to_image(
        self, decoded: DecodedPoses, width: int, height: int, ids: list[int] | None = None
    ) -> list[Pose]:
        """Scale model-input pixels to the image's, per axis, and flip if asked; `ids` per pose."""
        scale = np.array(
            [width / self.layout.input_width, height / self.layout.input_height, 1.0], np.float32
        )
        poses: list[Pose] = []
        person_ids: list[int | None] = [None] * len(decoded.scores) if ids is None else list(ids)
        for keypoints, score, person in zip(
            decoded.keypoints * scale, decoded.scores.tolist(), person_ids, strict=True
        ):
            if self.options.flip_horizontal:
                keypoints[:, 0] = (width - 1) - keypoints[:, 0]
            box = box_of(keypoints, width, height)
            poses.append(Pose(score=score, keypoints=keypoints, names=COCO_17, box=box, id=person))
        return poses

    def reset(self) -> None:
        """Forget the tracked people (a camera reconnect); their ids are not handed out again."""
        self._tracker.reset()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
            self._overlapping = None
            self._submitted.clear()
            self._ready.clear()

    def _live_session(self) -> InferenceSession:
        if self._session is None:
            raise ClosedError(f"PoseNet estimator for {self._name} is closed")
        return self._session

    def _live_overlapping(self) -> OverlappingSession:
        self._live_session()
        if self._overlapping is None:
            raise TypeError(f"the session of {self._name} cannot overlap; use estimate()")
        return self._overlapping

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Reopener:
    """What `input_resolution: auto` needs to open the model again at another size."""

    def __init__(self, backend: Backend, config: BackendConfig, path: Path, own: PoseNetLayout) -> None:
        self.backend, self.config, self.path, self.own = backend, config, path, own
        self.own_pixels = own.input_height * own.input_width


def _open_at(
    backend: Backend,
    config: BackendConfig,
    path: Path,
    own: PoseNetLayout,
    size: tuple[int, int] | None,
) -> tuple[InferenceSession, PoseNetLayout]:
    """A session on `path` at input (height, width) `size` (None: the file's), and its layout."""
    if size is None or size == (own.input_height, own.input_width):
        return open_resized_session(backend, path, config, None), own
    session = open_resized_session(backend, path, config, (1, *size, 3))
    try:
        layout = detect_layout(session.inputs, session.outputs)
    except BaseException:
        session.close()
        raise
    return session, layout
