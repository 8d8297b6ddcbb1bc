"""Which processes hold a device open: the answer to "device busy" after a crash."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

_PROC = Path("/proc")


def holders(device: str | os.PathLike[str], *, exclude_self: bool = True) -> list[tuple[int, str]]:
    """(pid, command name) of every process with `device` open, as far as we may look.

    Reads /proc/<pid>/fd links; processes of other users are invisible without
    privileges, so an empty answer means "none that we can see".
    """
    return holders_of_any([device], exclude_self=exclude_self)


def holders_of_any(
    devices: Iterable[str | os.PathLike[str]], *, exclude_self: bool = True
) -> list[tuple[int, str]]:
    """(pid, command name) of every process holding any of `devices`, in one pass over /proc."""
    targets = {os.path.realpath(device) for device in devices}
    found: list[tuple[int, str]] = []
    if not targets or not _PROC.is_dir():
        return found
    me = os.getpid()
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if exclude_self and pid == me:
            continue
        try:
            fds = os.listdir(entry / "fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(entry / "fd" / fd)
            except OSError:
                continue
            if link in targets:
                found.append((pid, _comm(entry)))
                break
    return found


def describe_holders(*devices: str | os.PathLike[str]) -> str | None:
    """ "in use by pid 123 (motion), pid 456 (python3)", or None if nobody we can see holds them."""
    procs = holders_of_any(devices)
    if not procs:
        return None
    shown = ", ".join(f"pid {pid} ({name})" for pid, name in procs[:5])
    more = f" and {len(procs) - 5} more" if len(procs) > 5 else ""
    return f"in use by {shown}{more}"


def _comm(proc_dir: Path) -> str:
    try:
        return (proc_dir / "comm").read_text(encoding="utf-8", errors="replace").strip() or "?"
    except OSError:
        return "?"
