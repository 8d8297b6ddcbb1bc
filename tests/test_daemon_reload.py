"""A reload restarts only what changed: the plan computed from two real config files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from posed.config.loader import LoadedConfig, load_config
from posed.daemon.reload import plan_reload

BASE = """\
device_id: dev
backend: {{type: tflite, num_threads: {threads}}}
model: {{name: {model}}}
cameras:
  front: {{type: video, path: a.avi, loop: {loop}}}
  {extra}
mqtt: {{topic_prefix: {prefix}}}
daemon: {{hang_timeout: {hang}}}
log_level: {level}
model_dir: {model_dir}
"""
Loader = Callable[..., LoadedConfig]
DEFAULTS = {
    "threads": 2,
    "model": "blazepose-lite",
    "loop": "true",
    "extra": "back: {type: video, path: b.avi}",
    "prefix": "posed",
    "hang": 10,
    "level": "info",
    "model_dir": "models-a",
}


@pytest.fixture
def load(tmp_path: Path) -> Loader:
    counter = iter(range(100))

    def _load(**changes: object) -> LoadedConfig:
        path = tmp_path / f"c{next(counter)}.yaml"
        path.write_text(BASE.format(**{**DEFAULTS, **changes}))
        return load_config(path)

    return _load


def test_same_settings_change_nothing(load: Loader) -> None:
    plan = plan_reload(load(), load())
    assert not plan.changed
    assert plan.describe() == "nothing"


def test_mqtt_change_restarts_only_the_publisher(load: Loader) -> None:
    plan = plan_reload(load(), load(prefix="other"))
    assert plan.publisher and plan.mqtt_restart and not plan.estimators
    assert plan.describe() == "mqtt connection"
    assert not (plan.cameras_added or plan.cameras_removed or plan.cameras_changed)


def test_camera_change_reopens_only_that_camera(load: Loader) -> None:
    plan = plan_reload(load(), load(loop="false"))
    assert plan.cameras_changed == ("front",)
    assert not plan.publisher and not plan.estimators


def test_camera_added_and_removed(load: Loader) -> None:
    plan = plan_reload(load(), load(extra="side: {type: video, path: c.avi}"))
    assert plan.cameras_added == ("side",) and plan.cameras_removed == ("back",)
    assert plan.publisher, "the publisher announces the camera list (discovery)"
    # ... on the same MQTT client: the device's availability must not blink.
    assert not plan.mqtt_restart
    assert not plan.estimators


def test_backend_options_change_the_estimators_not_the_publisher(load: Loader) -> None:
    plan = plan_reload(load(), load(threads=1))
    assert plan.estimators and not plan.publisher


def test_model_change_restarts_estimators_and_publisher(load: Loader) -> None:
    plan = plan_reload(load(), load(model="blazepose-full"))
    assert plan.estimators and plan.publisher  # the model name is in every pose payload
    assert not plan.mqtt_restart


def test_in_place_settings(load: Loader) -> None:
    plan = plan_reload(load(), load(level="debug", hang=3))
    assert plan.log_level and plan.daemon
    assert not (plan.publisher or plan.estimators or plan.cameras_changed)
    assert plan.describe() == "log_level, daemon"


def test_model_dir_change_reloads_the_estimators(load: Loader) -> None:
    """Guards: a SIGHUP that changes model_dir loads the model again, from the new folder.

    Same model name, same backend: only the folder it is read from differs, and it may
    hold another file of that name (a corrected or newer model).
    """
    plan = plan_reload(load(), load(model_dir="models-b"))
    assert plan.estimators and plan.describe() == "model/backend"
    assert not (plan.cameras_added or plan.cameras_removed or plan.cameras_changed)


def test_the_preview_url_goes_to_home_assistant_without_a_new_mqtt_client(tmp_path: Path) -> None:
    from posed.daemon.reload import configuration_url

    def loaded(preview: str) -> LoadedConfig:
        path = tmp_path / f"p{abs(hash(preview))}.yaml"
        path.write_text(
            "device_id: dev\nbackend: {type: tflite}\nmodel: {name: blazepose-lite}\n"
            "cameras: {front: {type: video, path: a.avi}}\n" + preview
        )
        return load_config(path)

    off, on = loaded(""), loaded("preview: {enabled: true, port: 8091}\n")
    assert configuration_url(off) is None
    assert configuration_url(on) == "http://127.0.0.1:8091/"
    anywhere = loaded("preview: {enabled: true, host: 0.0.0.0, token: 0123456789abcdef0123}\n")
    url = configuration_url(anywhere)
    assert url is not None and "0.0.0.0" not in url and url.endswith(":8090/")
    assert configuration_url(loaded("preview: {enabled: true, port: 0}\n")) is None
    plan = plan_reload(off, on)
    assert plan.publisher and not plan.mqtt_restart
