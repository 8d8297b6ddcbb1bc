"""`--device` reaches a backend's config through the backend's own device_settings hook."""

from __future__ import annotations

from pathlib import Path

import pytest
from posed_kserve.plugin import KServeBackend
from posed_openvino.plugin import OpenVINOBackend
from posed_tflite.plugin import TFLiteBackend

from posed.backend import BackendConfig, BackendStatus, InferenceSession, Role, backend_settings
from posed.cli.flags import FlagError, backend_config


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("cpu", {"delegate": "xnnpack"}),
        ("edgetpu", {"delegate": "edgetpu"}),
        ("usb:0", {"delegate": "edgetpu", "edgetpu_device": "usb:0"}),
        ("pci:1", {"delegate": "edgetpu", "edgetpu_device": "pci:1"}),
        ("gpu", {"delegate": "gpu"}),
    ],
)
def test_tflite_maps_devices_to_delegates(device: str, expected: dict[str, object]) -> None:
    assert backend_settings(TFLiteBackend(), device) == {"type": "tflite", **expected}


def test_openvino_takes_the_device_name_and_kserve_its_server() -> None:
    assert backend_settings(OpenVINOBackend(), "GPU") == {"type": "openvino", "device": "GPU"}
    assert backend_settings(KServeBackend(), "10.0.0.5:8001") == {"type": "kserve", "url": "10.0.0.5:8001"}


def test_no_device_leaves_the_backend_defaults() -> None:
    assert backend_settings(TFLiteBackend(), None) == {"type": "tflite"}


class _RemoteConfig(BackendConfig):
    endpoint: str


class _ThirdParty:
    """A plugin that is not posed's: it spells --device as `endpoint` and refuses spaces."""

    name = "remote"
    config_model: type[BackendConfig] = _RemoteConfig

    def probe(self) -> BackendStatus:
        return BackendStatus(self.name, True, "stand-in")

    def open_session(
        self, model_path: Path, config: BackendConfig, *, role: Role = "main"
    ) -> InferenceSession:
        raise NotImplementedError

    def device_settings(self, device: str) -> dict[str, object]:
        return {"endpoint": device}


class _Plain(_ThirdParty):
    device_settings = None  # type: ignore[assignment]


def test_a_third_party_plugin_maps_its_own_device() -> None:
    assert backend_settings(_ThirdParty(), "host:9") == {"type": "remote", "endpoint": "host:9"}
    config = backend_config(_ThirdParty(), "host:9")
    assert isinstance(config, _RemoteConfig)
    assert config.endpoint == "host:9"


def test_a_refused_third_party_device_names_the_flag() -> None:
    class Strict(_ThirdParty):
        def device_settings(self, device: str) -> dict[str, object]:
            return {"endpoint": 7}  # not a string: the config refuses it

    with pytest.raises(FlagError, match="--device"):
        backend_config(Strict(), "x")


def test_a_plugin_without_the_hook_gets_device() -> None:
    assert backend_settings(_Plain(), "x") == {"type": "remote", "device": "x"}
