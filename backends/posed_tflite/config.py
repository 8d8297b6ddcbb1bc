from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from posed.backend import BackendConfig


class TFLiteConfig(BackendConfig):
    type: Literal["tflite"] = Field(description="The TFLite backend (LiteRT or tflite-runtime).")
    num_threads: PositiveInt | None = Field(
        None, description="CPU threads for inference; default: one per core."
    )
    delegate: Literal["xnnpack", "edgetpu", "none"] = Field(
        "xnnpack", description="xnnpack (fast CPU), edgetpu (Coral) or none (reference kernels)."
    )
    edgetpu_device: str | None = Field(
        None,
        pattern=r"^(usb|pci)(:\d+)?$",
        description="Which Coral to use, as Coral names them: usb, usb:N, pci or pci:N.",
    )
    fallback: Literal["cpu"] | None = Field(
        None, description="With edgetpu: run on the CPU when no Edge TPU is usable (off by default)."
    )
