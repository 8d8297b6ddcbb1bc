"""Backend plugins, found through the `posed.backends` entry-point group.

Nothing is imported until a backend is asked for by name, so `import posed`
never loads a runtime or touches hardware.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import cast

from posed.backend import Backend
from posed.errors import BackendError

ENTRY_POINT_GROUP = "posed.backends"


def discover() -> dict[str, EntryPoint]:
    """Installed backend entry points by name; the first registration of a name wins."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)
    return dict(sorted(found.items()))


def load_backend(name: str) -> Backend:
    """Instantiate the backend plugin registered as `name`."""
    available = discover()
    ep = available.get(name)
    if ep is None:
        names = ", ".join(available) or "none"
        raise BackendError(
            f"unknown backend {name!r}; installed backends: {names}. "
            "Install one with `pip install 'posed[tflite]'` or `pip install 'posed[openvino]'`."
        )
    try:
        factory = ep.load()
    except Exception as exc:  # a broken third-party plugin must not take posed down
        raise BackendError(
            f"backend {name!r} ({ep.value}) failed to import: {exc}. "
            f"Reinstall the distribution that provides it."
        ) from exc
    backend = factory()
    for attr in ("name", "config_model", "probe", "open_session"):
        if not hasattr(backend, attr):
            raise BackendError(f"backend {name!r} ({ep.value}) does not provide `{attr}`")
    return cast(Backend, backend)
