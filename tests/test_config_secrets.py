"""No credential reaches any output: `posed check`, `posed run` and its log, `posed estimate`.

Every credential form posed documents or refuses is written with the same secret, and the
secret is looked for in everything each real process prints: a password holding `@` or
`/`, secret query parameters (`access_token`, `api_key`), user-info written into
`mqtt.host` or the kserve `url`, a URL too long for its key, an rtsp URL given as a video
path, and an invalid preview token (which must also not cause a second error claiming
the token is missing).
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from posed.config.messages import show
from posed.daemon.logs import Redactor
from posed.errors import ConfigIssue
from posed.urls import mask_credentials
from tests.conftest import MEDIA, MODELS, POSED
from tests.mosquitto import Mosquitto

SECRET = "S3cr3tXyZ"

# Each form as it appears in text, and the part that must remain to say what it is about.
FORMS = [
    (f"rtsp://admin:hun@{SECRET}@cam.local:554/s1", "rtsp://admin:***@cam.local:554/s1"),
    (f"rtsp://admin:pa/{SECRET}@cam.local/s1", "rtsp://admin:***@cam.local/s1"),
    (f"rtsp:/admin:{SECRET}@cam/s1", "rtsp:/admin:***@cam/s1"),
    (
        f"http://cam/v?access_token={SECRET}&api_key={SECRET}: refused",
        "access_token=***&api_key=***: refused",
    ),
    (f"http://cam/v?x-api-key={SECRET}&sig={SECRET}", "x-api-key=***&sig=***"),
    (f"mqtt broker u:{SECRET}@127.0.0.1:1883 down", "u:***@127.0.0.1:1883 down"),
    (f"'u:hun@{SECRET}@10.0.0.2:8001'", "'u:***@10.0.0.2:8001'"),
    (f"token: {SECRET} in a library's text", "token: *** in"),
    (f"password={SECRET}", "password=***"),
]


@pytest.mark.parametrize(("text", "kept"), FORMS)
def test_every_form_is_masked_in_the_one_place(text: str, kept: str) -> None:
    for masked in (mask_credentials(text), Redactor()(text), ConfigIssue("f", 1, "k", text).message):
        assert SECRET not in masked and kept in masked, masked


def test_a_long_url_is_masked_before_it_is_shortened() -> None:
    shown = show(f"rtsp://admin:{SECRET}{'x' * 100}@cam/s")
    assert SECRET[:4] not in shown and "rtsp://admin:***@cam/s" in shown


def _config(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


INVALID = f"""\
device_id: dev
backend: {{type: tflite}}
model: {{name: blazepose-lite}}
cameras:
  long: {{type: stream, url: 'rtsp://admin:{SECRET}@127.0.0.1:9/{"x" * 5000}'}}
  vid: {{type: video, path: 'rtsp://admin:hun@{SECRET}@cam/s'}}
mqtt: {{host: 'u:{SECRET}@127.0.0.1'}}
preview: {{enabled: true, host: 0.0.0.0, token: '{SECRET} with spaces!'}}
"""

KSERVE = f"""\
device_id: dev
backend: {{type: kserve, url: 'u:{SECRET}@127.0.0.1:9'}}
model: {{name: blazepose-lite}}
cameras:
  v: {{type: video, path: {MEDIA / "vtest.avi"}}}
"""


def _streams(port: int) -> str:
    return f"""\
device_id: dev
backend: {{type: tflite, num_threads: 1}}
model: {{name: blazepose-lite}}
cameras:
  at: {{type: stream, url: 'rtsp://admin:hun@{SECRET}@127.0.0.1:9/s', open_timeout: 1}}
  query: {{type: stream, url: 'http://127.0.0.1:9/v?access_token={SECRET}&api_key={SECRET}', open_timeout: 1}}
  slash: {{type: stream, url: 'rtsp://admin:pa/{SECRET}@127.0.0.1:9/s', open_timeout: 1}}
mqtt: {{host: 127.0.0.1, port: {port}}}
"""


def _check(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*POSED, "check", "-c", str(config), "--model-dir", str(MODELS)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_and_run_refuse_the_invalid_forms_without_printing_them(tmp_path: Path) -> None:
    config = _config(tmp_path, "posed.yaml", INVALID)
    result = _check(config)
    assert result.returncode == 2
    assert SECRET not in result.stdout + result.stderr
    for key in ("cameras.long.url", "cameras.vid.path", "mqtt.host", "preview.token"):
        assert f": {key}: " in result.stderr, result.stderr
    assert "the value is not shown (it is a secret)" in result.stderr
    assert "needs `preview.token`" not in result.stderr  # the token is invalid, not missing
    run = subprocess.run(
        [*POSED, "run", "-c", str(config), "--model-dir", str(MODELS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 78
    assert SECRET not in run.stdout + run.stderr and "mqtt.host" in run.stderr


def test_a_kserve_url_with_credentials_is_refused_unprinted(tmp_path: Path) -> None:
    result = _check(_config(tmp_path, "posed.yaml", KSERVE))
    assert result.returncode == 2 and "backend.url: credentials do not go in `url`" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_estimate_never_prints_a_credential(tmp_path: Path) -> None:
    for args in (
        [f"rtsp://admin:{SECRET}@cam/x.mp4"],
        ["--backend", "kserve", "--device", f"u:{SECRET}@127.0.0.1:9", str(MEDIA / "vtest.avi")],
    ):
        result = subprocess.run(
            [*POSED, "estimate", "--model-dir", str(MODELS), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode != 0
        assert SECRET not in result.stdout + result.stderr, result.stderr


def test_check_and_the_daemons_log_mask_stream_credentials(tmp_path: Path) -> None:
    with Mosquitto(tmp_path) as broker:
        config = _config(tmp_path, "posed.yaml", _streams(broker.port))
        result = _check(config)
        assert result.returncode == 2
        assert result.stderr.count("127.0.0.1:9") >= 3, result.stderr
        assert SECRET not in result.stdout + result.stderr
        log = tmp_path / "posed.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [*POSED, "run", "-c", str(config), "--model-dir", str(MODELS), "--log-level", "debug"],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            try:
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    text = log.read_text(errors="replace")
                    if all(f"camera {name}" in text for name in ("at", "query", "slash")) and "***" in text:
                        break
                    time.sleep(0.5)
                time.sleep(3)  # a reconnect or two more
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert "admin:***@127.0.0.1:9" in text and "access_token=***" in text, text[-3000:]
    assert SECRET not in text
