"""No value of one type is silently turned into another, in any section of the config.

`fps: '5'`, `fps: true`, `num_threads: 2.0` and zone points `['0.1', '0.2']` are refused with
their line, and every number, boolean and tuple field of every section (the backend sections
of the installed plugins and the file `posed estimate --events-config` reads included) is
walked to show that the one mechanism, strict mode in posed.strict, holds there too.
"""

from __future__ import annotations

import subprocess
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from posed.config import PosedConfig, load_config
from posed.errors import ConfigError
from posed.events.config import EventsFile
from posed.plugins import discover, load_backend
from tests.conftest import POSED
from tests.test_config_bounds import _models

BASE = """\
device_id: dev
backend: {type: tflite, num_threads: 1}
model: {name: blazepose-lite}
cameras:
  front: {type: video, path: clip.mp4, realtime: true}
"""


def _roots() -> list[type[BaseModel]]:
    return [PosedConfig, EventsFile, *(load_backend(name).config_model for name in discover())]


def _all_models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for root in _roots():
        found += [m for m in _models(root) if m not in found]
    return found


def _members(tp: object) -> list[object]:
    """The types a field accepts, with Optional, Annotated and unions taken apart."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _members(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(tp) for m in _members(arg)]
    return [tp]


def _wrong_values(tp: object) -> list[object]:
    """Values of another type that lax validation would have converted to `tp`."""
    members = _members(tp)
    if any(m is str for m in members):
        return []  # a text field: numbers are refused by pydantic in any mode
    kinds = {m for m in members if m in (int, float, bool)}
    literals = [a for m in members if typing.get_origin(m) is typing.Literal for a in typing.get_args(m)]
    wrong: list[object] = []
    if int in kinds or float in kinds:
        wrong += ["5", True]
    if int in kinds and float not in kinds:
        wrong.append(2.0)
    if bool in kinds:
        wrong += ["true", 1]
    if any(isinstance(a, int) and not isinstance(a, bool) for a in literals):
        wrong.append(True)
    for member in members:
        if typing.get_origin(member) is list:
            wrong += [[value] for value in _wrong_values(typing.get_args(member)[0])]
        if typing.get_origin(member) is tuple:
            items = [a for a in typing.get_args(member) if a is not Ellipsis]
            if all(float in _members(a) or int in _members(a) for a in items):
                wrong.append(["1"] * len(items))
    return wrong


CASES = [
    (model, name, value)
    for model in _all_models()
    for name, field in model.model_fields.items()
    for value in _wrong_values(field.annotation)
]


def test_the_walk_reaches_every_kind_of_field() -> None:
    names = {(model.__name__, name) for model, name, _ in CASES}
    # A few fields the walk must find, one per section, so a broken walk cannot pass by testing nothing.
    for expected in [
        ("VideoCamera", "fps"),
        ("TFLiteConfig", "num_threads"),
        ("MqttConfig", "qos"),
        ("MqttConfig", "port"),
        ("PreviewConfig", "enabled"),
        ("ZoneConfig", "points"),
        ("FallsConfig", "upright_angle"),
        ("DaemonConfig", "restart_budget"),
        ("PoseNetOptions", "input_resolution"),
        ("KServeConfig", "timeout"),
    ]:
        assert expected in names, expected
    assert len(CASES) > 150


@pytest.mark.parametrize(
    ("model", "name", "value"), CASES, ids=[f"{m.__name__}.{n}={v!r}" for m, n, v in CASES]
)
def test_every_field_refuses_a_value_of_another_type(
    model: type[BaseModel], name: str, value: object
) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate({name: value})
    assert any(error["loc"][:1] == (name,) for error in caught.value.errors()), caught.value


@pytest.mark.parametrize(
    ("change", "key", "needle"),
    [
        ("realtime: true}", "cameras.front.fps", "'5' is not a number: it is text in quotes; write 5"),
        ("realtime: true, fps: true}", "cameras.front.fps", "True is not a number: true is a boolean"),
        ("num_threads: 2.0}", "backend.num_threads", "2.0 is not a whole number"),
        ("realtime: 'true'}", "cameras.front.realtime", "write true without quotes"),
        ("qos: true", "mqtt.qos", "not a whole number"),
    ],
)
def test_the_examples_are_refused_on_their_line(tmp_path: Path, change: str, key: str, needle: str) -> None:
    text = BASE
    if change.startswith("realtime: true}"):
        text = text.replace("realtime: true}", "realtime: true, fps: '5'}")
    elif change.startswith("realtime: true, fps"):
        text = text.replace("realtime: true}", change)
    elif change.startswith("num_threads"):
        text = text.replace("num_threads: 1}", change)
    elif change.startswith("realtime: 'true'"):
        text = text.replace("realtime: true}", change)
    else:
        text += f"mqtt: {{{change}}}\n"
    path = tmp_path / "posed.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (issue,) = caught.value.issues
    assert issue.key == key and needle in issue.message, issue
    assert issue.line == (6 if key.startswith("mqtt") else 5 if key.startswith("cameras") else 2)


def test_zone_points_given_as_text_are_refused_by_posed_check(tmp_path: Path) -> None:
    path = tmp_path / "posed.yaml"
    path.write_text(
        BASE.replace(
            "realtime: true}",
            "realtime: true,\n    zones: {door: {points: [['0.1', '0.2'], [0.5, 0.1], [0.5, 0.5]]}}}",
        )
    )
    result = subprocess.run(
        [*POSED, "check", "--config-only", "-c", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert "posed.yaml:6: cameras.front.zones.door.points.0.0: '0.1' is not a number" in result.stderr
    assert "points.0.1: '0.2' is not a number" in result.stderr


def test_lists_still_fill_tuples_and_numbers_fill_numbers(tmp_path: Path) -> None:
    path = tmp_path / "posed.yaml"
    path.write_text(
        BASE.replace(
            "realtime: true}",
            "realtime: true, fps: 5,\n    zones: {door: {points: [[0, 0], [1, 0], [0.5, 1]]}}}",
        )
        + "model: {name: posenet-mobilenet-075-481x641, posenet: {input_resolution: [353, 481]}}\n"
    )
    path.write_text(path.read_text().replace("model: {name: blazepose-lite}\n", ""))
    loaded = load_config(path)
    camera = loaded.config.cameras["front"]
    assert camera.fps == 5.0 and isinstance(camera.fps, float)
    assert camera.zones["door"].points[2] == (0.5, 1.0)
    assert loaded.config.model.posenet.input_resolution == (353, 481)
