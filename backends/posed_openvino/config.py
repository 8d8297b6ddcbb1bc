"""The `backend:` section of a config with `type: openvino`."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from posed.backend import BackendConfig
from posed.strict import ConfigPath

DEVICE_PATTERN = r"^(CPU|GPU(\.\d+)?|NPU|AUTO(:(CPU|GPU(\.\d+)?|NPU)(,(CPU|GPU(\.\d+)?|NPU))*)?)$"
DEVICE_HELP = (
    "CPU, GPU, GPU.N, NPU or AUTO (also AUTO:GPU,CPU); `posed backends` lists this machine's devices"
)


def _device_name(value: str) -> str:
    if not re.fullmatch(DEVICE_PATTERN, value):
        raise ValueError(f"{value!r} is not an OpenVINO device: use {DEVICE_HELP}")
    return value


Device = Annotated[str, Field(max_length=32), AfterValidator(_device_name)]


class OpenVINOConfig(BackendConfig):
    type: Literal["openvino"] = Field(description="The OpenVINO backend.")
    device: Device = Field("CPU", description=f"Device for every model: {DEVICE_HELP}.")
    devices: dict[Literal["detector", "landmarks", "main"], Device] = Field(
        default_factory=dict,
        description="Per-model devices overriding `device`, e.g. {detector: CPU, landmarks: GPU} for "
        "BlazePose (the small detector runs rarely; the landmark model runs every frame).",
    )
    performance_hint: Literal["LATENCY", "THROUGHPUT"] = Field(
        "LATENCY", description="OpenVINO performance hint: LATENCY for one camera, THROUGHPUT for many."
    )
    num_streams: int | None = Field(
        None,
        ge=1,
        le=256,
        description="Parallel inference streams, 1 to 256; default: chosen by the performance hint.",
    )
    num_threads: int | None = Field(
        None,
        ge=1,
        le=256,
        description="CPU inference threads (CPU only), 1 to 256; default: all cores this process may use.",
    )
    inference_precision: Literal["f32", "f16", "bf16"] | None = Field(
        None,
        description="Inference precision. Default: f32 on the CPU, so results match TFLite (OpenVINO "
        "would pick bf16 on CPUs with AVX512-BF16/AMX, moving BlazePose landmarks by pixels); the "
        "device's own default elsewhere (f16 on GPU and NPU).",
    )
    cache_dir: ConfigPath | None = Field(
        None,
        description="Directory for compiled models, so a restart skips compilation "
        "(e.g. /var/cache/posed/openvino, systemd's CacheDirectory). Created if missing.",
    )

    def device_for(self, role: str) -> str:
        """The device configured for a model role (detector, landmarks or main)."""
        for key, device in self.devices.items():
            if key == role:
                return device
        return self.device
