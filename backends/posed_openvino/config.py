from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt

from posed.backend import BackendConfig

DEVICE_PATTERN = r"^(CPU|GPU(\.\d+)?|NPU|AUTO(:[A-Z0-9.,]+)?)$"


class OpenVINOConfig(BackendConfig):
    type: Literal["openvino"] = Field(description="The OpenVINO backend.")
    device: str = Field("CPU", pattern=DEVICE_PATTERN, description="CPU, GPU, GPU.N, NPU or AUTO.")
    devices: dict[Literal["detector", "landmarks", "main"], str] = Field(
        default_factory=dict,
        description="Per-model device overrides, e.g. {detector: CPU, landmarks: GPU} for BlazePose.",
    )
    performance_hint: Literal["LATENCY", "THROUGHPUT"] = Field(
        "LATENCY", description="OpenVINO performance hint."
    )
    num_streams: PositiveInt | None = Field(None, description="Inference streams; default: from the hint.")
    num_threads: PositiveInt | None = Field(None, description="CPU inference threads; default: all cores.")
    inference_precision: Literal["f32", "f16", "bf16"] | None = Field(
        None, description="Inference precision hint; default: the device's own."
    )
    cache_dir: Path | None = Field(
        None, description="Where compiled models are cached so a restart is fast (e.g. /var/cache/posed)."
    )

    def device_for(self, role: str) -> str:
        return self.devices.get(role, self.device)  # type: ignore[call-overload,no-any-return]
