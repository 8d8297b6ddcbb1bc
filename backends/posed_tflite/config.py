"""The `backend:` section of a config with `type: tflite`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from posed.backend import BackendConfig


class TFLiteConfig(BackendConfig):
    type: Literal["tflite"] = Field(description="The TFLite backend (LiteRT or tflite-runtime).")
    num_threads: int | None = Field(
        None,
        ge=1,
        le=256,
        description="CPU threads for inference, 1 to 256; default: one per core this process may use.",
    )
    delegate: Literal["xnnpack", "edgetpu", "none"] = Field(
        "xnnpack",
        description="xnnpack (fast CPU kernels), edgetpu (Coral; needs the *_edgetpu.tflite model "
        "variant and libedgetpu.so.1) or none (TFLite's builtin kernels, no delegate).",
    )
    edgetpu_device: str | None = Field(
        None,
        max_length=16,
        pattern=r"^(usb|pci)(:\d+)?$",
        description="With edgetpu: which Coral, as Coral names them: usb, usb:N, pci or pci:N; "
        "default: the first one found.",
    )
    fallback: Literal["cpu"] | None = Field(
        None,
        description="With edgetpu: run the CPU model variant with XNNPACK when no Edge TPU is usable "
        "(logged as a warning, and the device in use says so). Off by default: no Coral is an error.",
    )

    @model_validator(mode="after")
    def _edgetpu_options_need_edgetpu(self) -> TFLiteConfig:
        if self.delegate != "edgetpu":
            given = [k for k in ("edgetpu_device", "fallback") if getattr(self, k) is not None]
            if given:
                raise ValueError(f"{' and '.join(given)} only apply with `delegate: edgetpu`")
        return self
