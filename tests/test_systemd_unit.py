"""The shipped unit: systemd's own tools accept it, and it is hardened to an exposure of at most 1.5."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

UNIT = REPO / "systemd" / "posed.service"
SYSUSERS = REPO / "systemd" / "posed.conf"
INSTALLED_BINARY = "/opt/posed/venv/bin/posed"
MAX_EXPOSURE = 1.5

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")


def _settings(wanted: str = "[Service]") -> dict[str, list[str]]:
    """One section's settings, each with all of its values (keys may repeat in units)."""
    settings: dict[str, list[str]] = {}
    section = None
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
        elif section == wanted:
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_exposure_score_is_at_most_1_5() -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
    )
    match = re.search(r"Overall exposure level for posed\.service: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE, result.stdout


def test_verify_accepts_the_unit(tmp_path: Path) -> None:
    # verify insists that ExecStart's binary exists. The unit names the documented install
    # location; here that path is swapped for this checkout's own `posed` entry point.
    local = Path(shutil.which("posed") or REPO / ".venv" / "bin" / "posed")
    assert local.is_file(), "the posed entry point is not installed in this environment"
    text = UNIT.read_text()
    assert f"ExecStart={INSTALLED_BINARY} run" in text
    copy = tmp_path / "posed.service"
    copy.write_text(text.replace(INSTALLED_BINARY, str(local)))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "posed.service" not in result.stderr, result.stderr

    # Unmodified, the only complaint is the binary that is not installed on this machine.
    if not Path(INSTALLED_BINARY).exists():
        original = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", str(UNIT)], capture_output=True, text=True
        )
        complaints = [line for line in original.stderr.splitlines() if "posed.service" in line]
        assert complaints and all(INSTALLED_BINARY in line for line in complaints), original.stderr


def test_lifecycle_settings() -> None:
    s = _settings()
    assert s["Type"] == ["notify"] and s["NotifyAccess"] == ["main"]
    assert s["Restart"] == ["on-failure"] and s["RestartPreventExitStatus"] == ["78"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    # systemd's watchdog must be the backstop: longer than posed's own hang_timeout (10 s).
    assert int(s["WatchdogSec"][0].removesuffix("s")) > 10
    assert s["StateDirectory"] == s["CacheDirectory"] == s["ConfigurationDirectory"] == ["posed"]
    assert s["LoadCredential"] == ["mqtt_password:/etc/posed/mqtt_password"]
    assert s["DynamicUser"] == ["yes"]


def test_devices_are_limited_to_cameras_and_accelerators() -> None:
    s = _settings()
    assert s["DevicePolicy"] == ["closed"]
    allowed = {value.split()[0] for value in s["DeviceAllow"]}
    assert allowed == {
        "char-video4linux",
        "char-media",
        "char-dma_heap",
        "char-apex",
        "char-usb_device",
        "/dev/dri/renderD128",  # the GPU's render node, not char-drm's KMS card nodes too
        "char-accel",
    }
    assert "video" in s["SupplementaryGroups"][0].split()


def test_every_device_rule_says_why() -> None:
    lines = UNIT.read_text().splitlines()
    for number, line in enumerate(lines):
        if line.startswith("DeviceAllow="):
            above = lines[number - 1]
            assert above.startswith("#") or above.startswith("DeviceAllow="), line
            assert any(lines[i].startswith("#") for i in range(max(0, number - 3), number)), line


def test_memory_and_task_limits_and_a_writable_cache() -> None:
    s = _settings()
    assert s["MemoryMax"] == ["1G"] and s["MemoryHigh"] == ["768M"]
    assert int(s["TasksMax"][0]) >= 64
    # XDG_CACHE_HOME=%C puts $XDG_CACHE_HOME/posed exactly on CacheDirectory=posed (/var/cache/posed).
    assert s["CacheDirectory"] == ["posed"]
    assert "XDG_CACHE_HOME=%C" in s["Environment"]
    assert "systemctl edit posed" in UNIT.read_text()  # how to raise the limits


def test_the_config_bounds_frames_by_the_units_memory_max() -> None:
    from posed.cameras.config import FRAME_COPIES, MAX_FRAME_PIXELS, UNIT_MEMORY_MAX

    (value,) = _settings()["MemoryMax"]
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    assert int(value[:-1]) * units[value[-1]] == UNIT_MEMORY_MAX
    assert MAX_FRAME_PIXELS * 3 * FRAME_COPIES < UNIT_MEMORY_MAX
    assert 7680 * 4320 <= MAX_FRAME_PIXELS < 16384 * 16384


def test_the_descriptor_limit_is_raised_above_the_default() -> None:
    # systemd's default soft limit of 1024 is what a flood of connections once exhausted.
    assert int(_settings()["LimitNOFILE"][0]) >= 4096


def test_memory_deny_write_execute_is_not_set() -> None:
    # OpenVINO's CPU plugin generates code at run time; W^X would kill it.
    assert "MemoryDenyWriteExecute" not in _settings()
    assert _settings("[Install]")["WantedBy"] == ["multi-user.target"]


def test_sysusers_creates_the_supplementary_groups(tmp_path: Path) -> None:
    tool = shutil.which("systemd-sysusers")
    if tool is None:
        pytest.skip("needs systemd-sysusers")
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "group").write_text("root:x:0:\nvideo:x:44:\n")
    subprocess.run([tool, f"--root={tmp_path}", str(SYSUSERS)], check=True, capture_output=True)
    groups = {line.split(":")[0] for line in (etc / "group").read_text().splitlines()}
    wanted = set(_settings()["SupplementaryGroups"][0].split())
    assert wanted <= groups
