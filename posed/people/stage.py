"""The daemon's people stage: between the estimator (poses with tracker ids) and everything that
reports people (the pose topics and counts, the event analyzers, the preview).

Input: one camera's processed frame (its image and tracking time) and the estimator's poses.
Output: the poses that are people (posed.people.phantoms). Each camera has its own filter,
called only from that camera's worker thread; a reload replaces the settings of all cameras,
and a camera keeps its filter (who already counts) while its settings are unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from posed.people.config import PeopleConfig
from posed.people.phantoms import PhantomFilter
from posed.types import Frame, Pose


class PeopleStage:
    def __init__(self) -> None:
        self._config = PeopleConfig()
        self._filters: dict[str, tuple[PeopleConfig, PhantomFilter]] = {}
        self._lock = threading.Lock()  # guards the dict; a filter is used by one worker thread only

    def configure(self, config: PeopleConfig, cameras: Iterable[str]) -> None:
        """These cameras, with these settings; a camera whose settings changed starts afresh."""
        with self._lock:
            self._config = config
            self._filters = {
                camera: current
                for camera in cameras
                if (current := self._filters.get(camera)) is not None and current[0] == config
            }

    def people(self, camera: str, frame: Frame, poses: Sequence[Pose]) -> list[Pose]:
        """The poses of this frame that are people."""
        with self._lock:
            entry = self._filters.get(camera)
            if entry is None:
                entry = self._filters[camera] = (self._config, PhantomFilter(self._config.phantoms))
        return entry[1].update(frame.tracking_time, frame.image, poses)
