"""Hostile and careless config files: refused quickly, with their line, and without bloating posed."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from posed.config import load_config
from posed.config.reader import MAX_DEPTH, MAX_VALUES
from posed.errors import ConfigError, ConfigIssue

VALID = """\
device_id: dev
backend: {type: tflite}
model: {name: blazepose-lite}
cameras:
  front: {type: video, path: clip.mp4}
"""


def alias_bomb(levels: int = 9) -> str:
    """'Billion laughs': each level is a list of nine aliases of the level below."""
    lines = [VALID.rstrip("\n"), "lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels + 1):
        lines.append(f"lol{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def refused(tmp_path: Path, content: str | bytes) -> list[ConfigIssue]:
    path = tmp_path / "posed.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return list(caught.value.issues)


def test_alias_bomb_is_refused_within_a_second_without_growing_memory(tmp_path: Path) -> None:
    text = alias_bomb()
    assert len(text) < 1500  # a 1 KB file: 9**10 values once expanded
    tracemalloc.start()
    started = time.monotonic()
    try:
        issues = refused(tmp_path, text)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 20 * 1024 * 1024
    (issue,) = issues
    assert "alias" in issue.message and f"{MAX_VALUES:,}" in issue.message
    # a3 stands for ~7,400 values: the list on line 10 (a4) passes the bound with its 7th *a3.
    assert issue.line == 10 and "*a3" in issue.message


def test_aliases_within_the_bound_still_work(tmp_path: Path) -> None:
    path = tmp_path / "posed.yaml"
    path.write_text(
        VALID.replace("cameras:\n", "common: &common {type: video, path: clip.mp4, loop: true}\ncameras:\n")
        + "  back: *common\n"
        + "  side: {<<: *common, loop: false}\n"
    )
    with pytest.raises(ConfigError) as caught:  # `common` is no posed key; the aliases themselves are fine
        load_config(path)
    assert [i.key for i in caught.value.issues] == ["common"]
    path.write_text(path.read_text().replace("common: &common", "x-common: &common"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [i.key for i in caught.value.issues] == ["x-common"]


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    (issue,) = refused(tmp_path, VALID + "loop: &me [1, *me]\n")
    assert issue.line == 6 and "contains it" in issue.message


@pytest.mark.parametrize("flow", [True, False], ids=["flow", "block"])
def test_deep_nesting_is_refused_with_its_line_not_a_recursion_error(tmp_path: Path, flow: bool) -> None:
    depth = 5000
    if flow:
        nested = "x: " + "[" * depth + "]" * depth + "\n"
    else:
        nested = "x:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(200))
    (issue,) = refused(tmp_path, VALID + nested)
    assert issue.line is not None and issue.line >= 6
    assert f"nested more than {MAX_DEPTH} levels" in issue.message


@pytest.mark.parametrize(
    ("content", "line", "needle"),
    [
        (VALID.encode() + b"cameras2: \xff\xfe\n", 6, "not UTF-8 text (byte 0xff)"),
        ("device_id: k\xe4mera\n".encode("latin-1"), 1, "not UTF-8 text (byte 0xe4)"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", 1, "binary file"),
        (VALID.encode() + b"\x00\x00", 6, "NUL bytes"),
    ],
    ids=["invalid-utf8", "latin-1", "elf-binary", "nul"],
)
def test_non_utf8_and_binary_files_are_config_errors(
    tmp_path: Path, content: bytes, line: int, needle: str
) -> None:
    (issue,) = refused(tmp_path, content)
    assert issue.line == line and needle in issue.message


def test_utf8_with_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "posed.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    assert load_config(path).config.device_id == "dev"


def test_control_characters_are_a_config_error(tmp_path: Path) -> None:
    (issue,) = refused(tmp_path, VALID + "x: \x07\n")
    assert "invalid YAML" in issue.message and "#x0007" in issue.message


def test_keys_that_mean_the_same_name_are_refused_with_both_lines(tmp_path: Path) -> None:
    text = VALID + "  1: {type: video, path: a.mp4}\n  '1': {type: video, path: b.mp4}\n"
    (issue,) = refused(tmp_path, text)
    assert issue.line == 7 and issue.key == "cameras.1" and "first on line 6" in issue.message


def test_a_null_key_is_refused_not_a_camera_named_none(tmp_path: Path) -> None:
    (issue,) = refused(tmp_path, VALID + "  ~: {type: video, path: a.mp4}\n")
    assert issue.line == 6 and issue.key == "cameras" and "empty key" in issue.message
    (issue,) = refused(tmp_path, VALID + "  true: {type: video, path: a.mp4}\n")
    assert issue.line == 6 and "True" in issue.message and "not text" in issue.message


def test_a_number_key_is_a_name(tmp_path: Path) -> None:
    path = tmp_path / "posed.yaml"
    path.write_text(VALID + "  2: {type: video, path: a.mp4}\n")
    assert list(load_config(path).config.cameras) == ["front", "2"]


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    (issue,) = refused(tmp_path, VALID + "# " + "x" * (1024 * 1024) + "\n")
    assert "larger than 1024 KiB" in issue.message


@pytest.mark.parametrize(
    ("text", "key", "needle"),
    [
        ("backend: {type: tflte}", "backend.type", "did you mean 'tflite'?"),
        ("backend: {}", "backend.type", "required key is missing; installed backends:"),
        ("backend: {type: 5}", "backend.type", "5 is not text; installed backends:"),
        ("cameras: {front: {type: vidoe, path: a}}", "cameras.front", "did you mean 'video'?"),
        (
            "cameras: {front: {type: video, path: a, loop: 'yes please'}}",
            "cameras.front.loop",
            "'yes please' is not a boolean",
        ),
        ("cameras: {front: {type: video, path: a, lop: true}}", "cameras.front.lop", "did you mean 'loop'?"),
        (
            "model: {name: blazepose-lite, blazepose: {model_type: ful}}",
            "model.blazepose.model_type",
            "'ful' is not one of 'lite', 'full' or 'heavy'; did you mean 'full'?",
        ),
        ("log_level: warnin", "log_level", "did you mean 'warning'?"),
        ("mqtt: {port: eighty}", "mqtt.port", "'eighty' is not a whole number"),
    ],
)
def test_mistakes_are_quoted_with_a_suggestion(tmp_path: Path, text: str, key: str, needle: str) -> None:
    section = text.split(":", maxsplit=1)[0]
    flow = VALID.replace(
        "cameras:\n  front: {type: video, path: clip.mp4}", "cameras: {front: {type: video, path: x}}"
    )
    lines = [line for line in flow.splitlines() if not line.startswith(section)]
    issues = refused(tmp_path, "\n".join([*lines, text]) + "\n")
    assert [i.key for i in issues] == [key]
    assert needle in issues[0].message, issues[0].message


FLOW = VALID.replace(
    "cameras:\n  front: {type: video, path: clip.mp4}", "cameras: {front: {type: video, path: a}}"
)
LONG = "x" * 65536


@pytest.mark.parametrize(
    ("line", "key", "needle"),
    [
        (f"mqtt: {{topic_prefix: {LONG}}}", "mqtt.topic_prefix", "at most 256 characters"),
        (f"device_id: {LONG}", "device_id", "at most 64 characters"),
        # YAML itself limits an implicit key to 1,024 characters.
        (f"cameras: {{c{'x' * 70}: {{type: video, path: a}}}}", f"cameras.c{'x' * 70}", "at most 64"),
        (
            f"cameras: {{? c{'x' * 66000}\n  : {{type: video, path: a}}}}",
            f"cameras.c{'x' * 39}...(66001 characters)",
            "at most 64",
        ),
        (
            "cameras: {front: {type: stream, url: 'rtsp://h/s', open_timeout: 1e300}}",
            "cameras.front.open_timeout",
            "less than or equal to 600, not 1e+300",
        ),
        (
            "cameras: {front: {type: video, path: a, reconnect_min_delay: 1e-300}}",
            "cameras.front.reconnect_min_delay",
            "greater than or equal to 0.01",
        ),
        ("mqtt: {reconnect_min_delay: 1e-300}", "mqtt.reconnect_min_delay", "greater than or equal to 0.01"),
        ("daemon: {shutdown_timeout: 1e308}", "daemon.shutdown_timeout", "less than or equal to 600"),
        ("daemon: {hang_timeout: 1e-9}", "daemon.hang_timeout", "greater than or equal to 1"),
        ("backend: {type: tflite, num_threads: 1e20}", "backend.num_threads", "1e+20 is not a whole number"),
        ("cameras: {kämera²: {type: video, path: a}}", "cameras.kämera²", "only letters A-Z"),
        ("cameras: {front door: {type: video, path: a}}", "cameras.front door", "only letters A-Z"),
        ("device_id: dév", "device_id", "only letters A-Z"),
        ("mqtt: {topic_prefix: $SYS/x}", "mqtt.topic_prefix", "starts with $"),
        (
            "mqtt: {homeassistant: {discovery_prefix: $ha}}",
            "mqtt.homeassistant.discovery_prefix",
            "starts with $",
        ),
        ('model: {path: "a\\0b"}', "model.path", "NUL"),
    ],
    ids=lambda v: v[:40] if isinstance(v, str) else v,
)
def test_absurd_values_are_refused_with_the_range(tmp_path: Path, line: str, key: str, needle: str) -> None:
    section = line.split(":", maxsplit=1)[0]
    lines = [kept for kept in FLOW.splitlines() if not kept.startswith(section)]
    issues = refused(tmp_path, "\n".join([*lines, line]) + "\n")
    assert [i.key for i in issues] == [key]
    (issue,) = issues
    assert needle in issue.message, issue.message
    assert issue.line == len(lines) + 1
    assert len(issue.message) < 300  # a 65,536-character value is shown shortened
