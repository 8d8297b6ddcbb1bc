"""A new user's first run has no dead ends: the demo and the demo config can run side by side,
two clients with one client id are named as the cause of their disconnects, every offline failure
says how to go on, and counts read as English. None of these needs the shared test data."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from posed.cli.demo import DEVICE_ID
from posed.config.loader import load_config
from posed.events.wording import plural, tally_summary
from posed.mqtt.client import client_id_for
from posed.mqtt.config import MqttConfig
from posed.mqtt.publisher import Publisher
from posed.mqtt.report import SHORT_LIVED_IN_A_ROW, ConnectionReport
from tests.conftest import POSED, REPO
from tests.mosquitto import Mosquitto, free_port


def _closed_network(tmp_path: Path) -> dict[str, str]:
    """Every HTTP(S) connection refused (the proxy is a closed port), and a private cache."""
    closed = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "https_proxy": closed, "http_proxy": closed}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env.pop("POSED_MODEL_MIRROR", None)
    env.pop("POSED_MODEL_DIR", None)
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    return env


def test_the_demo_and_the_demo_config_have_distinct_identities() -> None:
    """Guards: `posed demo` and `posed run -c config/demo-video.yaml`, run together as the docs
    invite, use different client ids and topics, so neither knocks the other off the broker."""
    loaded = load_config(REPO / "config" / "demo-video.yaml").config
    assert loaded.device_id != DEVICE_ID
    assert client_id_for(loaded.mqtt, loaded.device_id) != client_id_for(MqttConfig(), DEVICE_ID)


def test_a_duplicate_client_id_is_named_once(caplog: pytest.LogCaptureFixture) -> None:
    """Guards: connections that keep ending right after CONNACK are reported as a client id
    shared with another client, once; a connection that lasted resets the count."""
    report = ConnectionReport(MqttConfig(), "posed-demo")
    now = 100.0

    def connection(lasting: float) -> None:
        nonlocal now
        now += 2
        report.connected(first=False, dropped_meanwhile=0, now=now)
        now += lasting
        report.lost("Unspecified error", now=now)

    with caplog.at_level(logging.WARNING, logger="posed.mqtt"):
        for _ in range(SHORT_LIVED_IN_A_ROW - 1):
            connection(1)
        connection(60)  # lasted a minute (a broker restart): the count starts again
        for _ in range(SHORT_LIVED_IN_A_ROW - 1):
            connection(1)
        assert "same client id" not in caplog.text
        for _ in range(3):
            connection(1)
    said = [r for r in caplog.records if "same client id 'posed-demo'" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.ERROR
    assert "device_id" in said[0].getMessage()


def test_two_publishers_with_one_client_id_are_told_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Guards: against a real broker, two clients with one id are named as the cause."""
    with Mosquitto(tmp_path) as broker:
        config = MqttConfig(
            host=broker.host, port=broker.port, reconnect_min_delay=0.2, reconnect_max_delay=0.5
        )
        with caplog.at_level(logging.INFO, logger="posed.mqtt"):
            first = Publisher(config, "demo", cameras=["demo"], model="m", backend="b")
            second = Publisher(config, "demo", cameras=["demo"], model="m", backend="b")
            with first, second:
                first.start()
                second.start()
                deadline = time.monotonic() + 30
                while "same client id" not in caplog.text and time.monotonic() < deadline:
                    time.sleep(0.1)
    assert "same client id 'posed-demo'" in caplog.text


def test_the_demo_offline_says_every_way_to_go_on(tmp_path: Path) -> None:
    """Guards: with no network and nothing cached, the demo's message is one clean sentence per
    way out: --mirror, copying the clip into the cache folder, or a video of one's own."""
    env = _closed_network(tmp_path)
    result = subprocess.run(
        [*POSED, "demo", "--seconds", "1", "--no-preview"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    err = result.stderr
    assert "offline: the sample clip pose_squats.mp4 is not cached" in err
    assert "?." not in err and ".." not in err.replace("...", "")
    assert "--mirror URL" in err
    assert f"copy pose_squats.mp4 into {tmp_path / 'cache' / 'posed' / 'samples'}/" in err
    assert "posed demo --video PATH" in err


def test_an_unknown_host_reads_as_one_question_not_offline_question_dot(tmp_path: Path) -> None:
    """Guards: the download's own "offline?" ends its sentence; no "?." follows it."""
    env = _closed_network(tmp_path)
    mirror = "http://posed-no-such-host.invalid"
    result = subprocess.run(
        [*POSED, "demo", "--seconds", "1", "--no-preview", "--mirror", mirror],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={k: v for k, v in env.items() if k not in ("https_proxy", "http_proxy")},
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "cannot resolve the host" in result.stderr
    assert "offline? Get it" in result.stderr and "?." not in result.stderr


def test_models_fetch_offline_says_how_to_fetch_without_the_network(tmp_path: Path) -> None:
    """Guards: a fetch that fails for want of a network names --from and --mirror."""
    env = _closed_network(tmp_path)
    store = tmp_path / "store"
    command = [
        *POSED,
        "models",
        "fetch",
        "blazepose-lite",
        "--model-dir",
        str(store),
        "--no-pypi",
        "--no-npm",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 1, result.stderr
    assert "--from DIR" in result.stderr and "--mirror URL" in result.stderr


def test_counts_read_as_english() -> None:
    """Guards: `1 squat rep`, not `1 squat reps`; falls are always said."""
    assert plural(1, "squat rep") == "1 squat rep"
    assert plural(2, "squat rep") == "2 squat reps"
    assert plural(0, "frame") == "0 frames"
    assert tally_summary({"squat rep": 1}) == "1 squat rep, no fall"
    assert tally_summary({"fall detected": 1, "fall cleared": 1}) == "1 fall"


def test_the_preview_event_list_shows_two_digit_numbers() -> None:
    """Guards: the Recent events list's numbers sit inside its box, so 10-14 are not clipped
    to "0." - "4." by the scrolling list's edge."""
    css = (REPO / "posed" / "preview" / "static" / "preview.css").read_text()
    rule = re.search(r"ol#events\s*\{([^}]*)\}", css)
    assert rule is not None
    assert re.search(r"list-style-position:\s*inside", rule.group(1))


CONFIG_KEY = re.compile(r"(?:^|[\s{,])password_file:\s*([^\s`#,}]+)", re.MULTILINE)


def test_password_file_is_written_one_way() -> None:
    """Guards: the unit, the example configs and the docs name the broker password file alike."""
    places = [REPO / "systemd" / "posed.service", *sorted((REPO / "config").glob("*.yaml"))]
    places += sorted((REPO / "docs").rglob("*.md"))
    written = set()
    for path in places:
        # The key as a config writes it (`password_file: ...`), not an error's `mqtt.password_file: ...`.
        written |= set(CONFIG_KEY.findall(path.read_text()))
    assert written == {"mqtt_password"}, written


def test_the_unit_points_at_a_docs_page_that_exists() -> None:
    """Guards: systemd/posed.service's Documentation= and comments name pages of the docs site."""
    unit = (REPO / "systemd" / "posed.service").read_text()
    pages = re.findall(r"docs/([\w/-]+\.md)(?:#([\w-]+))?", unit)
    assert pages, "the unit names its docs page"
    for page, anchor in pages:
        text = (REPO / "docs" / page).read_text()
        if anchor:
            headings = {_slug(h) for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}
            assert anchor in headings, (page, anchor)
    assert "README" not in unit


def _slug(heading: str) -> str:
    """MkDocs' (Python-Markdown toc) default anchor of a heading."""
    text = re.sub(r"[^\w\s-]", "", heading.strip().lower())
    return re.sub(r"[-\s]+", "-", text).strip("-")


def test_the_status_line_says_why_a_camera_is_not_online_and_counts_in_english() -> None:
    from posed.daemon.telemetry import Telemetry
    from tests.test_daemon_telemetry import Camera, Worker

    telemetry = Telemetry(clock=lambda: 0.0)
    cameras = {
        "gym": Camera(status="reconnecting", problem="cannot open /x/pose_squats.mp4: no such file"),
        "hall": Camera(status="online"),
    }
    line = telemetry.status_line({"hall": Worker(people=1)}, cameras)
    assert "gym: reconnecting (cannot open /x/pose_squats.mp4: no such file)" in line
    assert "hall: online, - fps, 1 person" in line
    assert "1 people" not in line
