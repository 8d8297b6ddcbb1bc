"""An image folder survives bad files: each is skipped with one warning, oversized ones before decoding."""

from __future__ import annotations

import logging
import struct
import tracemalloc
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from posed.cameras import open_camera
from posed.cameras.config import DEFAULT_MAX_PIXELS
from posed.cameras.source import EndOfStream
from posed.cameras.sources.images import ImagesSource
from posed.errors import CameraError
from tests.camera_helpers import camera_config
from tests.test_cameras_files import drain

HUGE = 20000  # a 20000 x 20000 PNG: 1.2 GB once decoded


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose IHDR claims width x height, with one small IDAT: what a decoder would choke on."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\0" * (1 + 3 * min(width, 64)) * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three real images around a zero-byte PNG, a text file named .jpg and a 400-megapixel PNG."""
    rng = np.random.default_rng(7)
    for i in (0, 2, 4):
        cv2.imwrite(str(tmp_path / f"img_{i}.png"), rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    (tmp_path / "img_1.png").write_bytes(b"")
    (tmp_path / "img_3.jpg").write_text("this is a text file, not a JPEG")
    png_header_only(tmp_path / "img_5_huge.png", HUGE, HUGE)
    return tmp_path


def _rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    assert bgr is not None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _source(folder: Path, **values: object) -> ImagesSource:
    config = camera_config(type="images", path=str(folder), **values)
    source = ImagesSource(config)  # type: ignore[arg-type]
    source.open()
    return source


def test_bad_files_are_skipped_with_one_warning_each_across_loops(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = _source(folder, loop=True)
    with caplog.at_level(logging.WARNING, logger="posed.cameras.sources.images"):
        images = [source.read() for _ in range(9)]  # three passes over the three good images
    assert all(image.shape == (48, 64, 3) for image in images)
    expected = [_rgb(folder / f"img_{i}.png") for i in (0, 2, 4)]
    for got, want in zip(images, expected * 3, strict=True):
        np.testing.assert_array_equal(got, want)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 3, warnings
    assert any("img_1.png" in w and "empty or not a JPEG, PNG or BMP" in w for w in warnings)
    assert any("img_3.jpg" in w and "empty or not a JPEG, PNG or BMP" in w for w in warnings)
    huge = next(w for w in warnings if "img_5_huge.png" in w)
    assert f"{HUGE}x{HUGE}" in huge and "max_pixels" in huge and f"{DEFAULT_MAX_PIXELS:,}" in huge


def test_an_oversized_image_is_refused_from_its_header_without_decoding(folder: Path) -> None:
    for name in ("img_0.png", "img_2.png", "img_4.png"):
        (folder / name).unlink()
    real = folder / "real.png"
    cv2.imwrite(str(real), np.zeros((2000, 3000, 3), np.uint8))  # 6 MP: decoding it allocates 18 MB
    source = _source(folder, max_pixels=5_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(EndOfStream):
            source.read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024  # neither the 6 MP image nor the 400 MP one was decoded


def test_a_folder_of_only_bad_files_is_an_error_not_a_busy_loop(folder: Path) -> None:
    for name in ("img_0.png", "img_2.png", "img_4.png"):
        (folder / name).unlink()
    source = _source(folder, loop=True)
    with pytest.raises(CameraError, match="no readable image"):
        source.read()


def test_the_camera_stays_online_and_delivers_the_good_images(folder: Path) -> None:
    with open_camera("imgs", camera_config(type="images", path=str(folder))) as cam:
        cam.start()
        frames = drain(cam)
        assert cam.counters().reconnects == 0
    assert len(frames) == 3
