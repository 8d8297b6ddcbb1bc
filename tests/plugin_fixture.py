"""Register a backend plugin through entry-point metadata alone, for subprocess tests.

`install_plugin(site, ...)` writes a module and a `*.dist-info` whose
`entry_points.txt` names it in the `posed.backends` group, exactly what pip
would leave behind; `plugin_env(site)` is an environment whose PYTHONPATH puts
`site` first, so a `posed` subprocess discovers the plugin through importlib.metadata.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from posed.plugins import ENTRY_POINT_GROUP


def install_plugin(
    site: Path,
    *,
    name: str,
    module: str,
    source: str,
    attr: str,
    distribution: str | None = None,
    version: str = "0.1",
) -> Path:
    """Write `site/<module>.py` and its dist-info registering `name = module:attr`; returns `site`."""
    if not module.isidentifier():
        raise ValueError(f"module must be a plain identifier: {module!r}")
    distribution = distribution or module.replace("_", "-")
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(source, encoding="utf-8")
    dist_info = site / f"{re.sub(r'[-.]+', '_', distribution)}-{version}.dist-info"
    dist_info.mkdir(exist_ok=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
    )
    (dist_info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n{name} = {module}:{attr}\n", encoding="utf-8"
    )
    return site


def plugin_env(site: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of `base` (default os.environ) with `site` first on PYTHONPATH."""
    env = dict(os.environ if base is None else base)
    rest = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(site) if not rest else f"{site}{os.pathsep}{rest}"
    return env
