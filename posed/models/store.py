"""Where models are stored, and the few careful file operations the store needs.

The store is the first directory of the model search path: --model-dir,
$POSED_MODEL_DIR, the config's model_dir, systemd's $STATE_DIRECTORY/models,
then ~/.cache/posed/models. `posed models fetch` writes where `posed run`
with the same settings looks first, so what is fetched is what is used.

Files are written into a hidden staging directory inside the store and
renamed into place, so a reader never sees half a file and nothing partial
is left behind when a fetch fails.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from posed.errors import ModelError
from posed.models.registry import STORE_REGISTRY, StoreRegistry, read_store_registry, store_registry_json
from posed.models.resolve import model_search_path

STAGING_PREFIX = ".posed-staging-"
LOCK_FILE = ".posed.lock"
_CHUNK = 1 << 20


def store_dir(
    cli_dir: Path | None = None, config_dir: Path | None = None, env: Mapping[str, str] | None = None
) -> Path:
    return model_search_path(cli_dir=cli_dir, config_dir=config_dir, env=env)[0]


def prepare_store(store: Path) -> Path:
    """Create the store if needed and make sure posed can write to it."""
    try:
        store.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(
            f"cannot create the model store {store}: {exc.strerror}. Pass --model-dir DIR, or run as "
            "the user that owns it (for the systemd service: sudo -u posed, or its StateDirectory)"
        ) from exc
    if not os.access(store, os.W_OK | os.X_OK):
        raise ModelError(
            f"the model store {store} is not writable by this user; pass --model-dir DIR or run as its owner"
        )
    return store


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@contextmanager
def staging_dir(store: Path) -> Iterator[Path]:
    """A private directory on the store's file system, removed with all it holds on exit."""
    path = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=store))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def install(staged: Path, target: Path) -> None:
    """Move a finished, verified file into place atomically and durably."""
    with staged.open("rb") as handle:
        os.fsync(handle.fileno())
    staged.chmod(0o644)
    os.replace(staged, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@contextmanager
def store_lock(store: Path) -> Iterator[None]:
    """Serialise writers of one store (two fetches at once would race on registry.json)."""
    with (store / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def edit_store_registry(store: Path) -> Iterator[StoreRegistry]:
    """Read the store's registry, let the caller change its dicts, write it back atomically.

    The caller must hold `store_lock(store)`.
    """
    registry = read_store_registry(store)
    yield registry
    text = store_registry_json(StoreRegistry.model_validate(registry.model_dump()))
    fd, name = tempfile.mkstemp(prefix=STAGING_PREFIX, suffix=".json", dir=store)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        install(Path(name), store / STORE_REGISTRY)
    finally:
        Path(name).unlink(missing_ok=True)


def is_posed_internal(path: Path) -> bool:
    """Files the store keeps for itself, not models."""
    return path.name in (STORE_REGISTRY, LOCK_FILE)
