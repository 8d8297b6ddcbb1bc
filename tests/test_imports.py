"""Rule 1: importing posed does nothing: no runtimes, no hardware, no network libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "openvino",
    "ai_edge_litert",
    "tflite_runtime",
    "paho",
    "picamera2",
    "psutil",
    "nncf",
    "ai_edge_quantizer",
)


def test_import_loads_no_runtime_or_network_library() -> None:
    code = (
        "import sys, posed, posed.config, posed.plugins, posed.backend, posed.cli.main, posed.estimator\n"
        "import posed_tflite.plugin, posed_openvino.plugin\n"
        # `posed models quantize`: its quantizers load only when a variant is made.
        "import posed.cli.models_quantize, posed.models.variants, posed.quantize.make, posed.quantize.tools\n"
        "import posed.quantize.calibration, posed.quantize.tflite_fold\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
