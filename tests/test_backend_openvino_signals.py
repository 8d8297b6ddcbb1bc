"""posed survives signals after an OpenVINO session is released on another thread.

OpenVINO frees the signal stack it gave the creating thread when its last Core is
released; from another thread that left the stack dangling and the next SIGTERM or
SIGHUP crashed the process with SIGSEGV. The backend keeps one Core for the process.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from posed_openvino.core import shared_core

SCRIPT = """
import gc, os, select, signal, sys, threading
from pathlib import Path
from posed.plugins import load_backend

backend = load_backend("openvino")
config = backend.config_model.model_validate({"type": "openvino"})
backend.probe()
for _ in range(10):
    sessions = [backend.open_session(Path(sys.argv[1]), config)]

    def release():
        sessions.pop().close()
        gc.collect()

    worker = threading.Thread(target=release)
    worker.start()
    worker.join()
# Drop every other reference the backend might hold, as a reload would.
del backend, config
gc.collect()

got = []
signal.signal(signal.SIGHUP, lambda signum, frame: got.append(signum))
read_fd, write_fd = os.pipe2(os.O_NONBLOCK)
signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGHUP)).start()
select.select([read_fd], [], [], 10)
print("signals", got)
"""


def test_a_signal_after_releasing_a_session_on_another_thread_is_handled(models_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(models_dir / "pose_landmark_lite.tflite")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert "signals [1]" in result.stdout


def test_one_core_serves_every_thread_and_session() -> None:
    seen = []
    worker = threading.Thread(target=lambda: seen.append(shared_core()))
    worker.start()
    worker.join()
    assert seen == [shared_core()]
    assert shared_core() is shared_core()
