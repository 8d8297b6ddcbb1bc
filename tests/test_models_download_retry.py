"""Download retries back off, doubling from DownloadPolicy.retry_delay_s; checked on a fake clock.

A real HTTP server on loopback that announces the whole file and hangs up halfway, every time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from posed.models.download import DownloadError, DownloadPolicy, download
from tests.fake_clock import FakeClock
from tests.models_support import ServedFiles, http_server


def test_retries_back_off_doubling_then_give_up(tmp_path: Path) -> None:
    """Guards: a download cut short is retried `attempts` times, waiting retry_delay_s, then
    twice that, and so on (a flaky server is not hammered), then fails with every reason."""
    served = ServedFiles({"model.tflite": bytes(range(256)) * 400}, modes={"model.tflite": "truncate"})
    clock = FakeClock()
    policy = DownloadPolicy(attempts=4, timeout_s=10, retry_delay_s=0.5, progress=False)
    with http_server(served) as url, pytest.raises(DownloadError, match="gave up after 4 attempts"):
        download(f"{url}/model.tflite", tmp_path / "part", label="model.tflite", policy=policy, clock=clock)
    assert clock.waits == [0.5, 1.0, 2.0]
    assert len(served.requests) == 4
    # Each retry resumes where the cut left the file.
    assert served.requests[0][1] is None and all(r is not None for _, r in served.requests[1:])
