"""The `preview:` config section. Validators here are pure: no I/O, no name lookups."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from posed.strict import SECRET, StrictModel

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True for a loopback address or the usual loopback names (checked without a DNS lookup)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class PreviewConfig(StrictModel):
    enabled: bool = Field(False, description="Serve the live preview page from `posed run`.")
    # Before `host`, so that the host's validator can see it (pydantic validates in field order).
    token: Annotated[str, SECRET] | None = Field(
        None,
        min_length=16,
        max_length=256,
        pattern=r"^[A-Za-z0-9._~+/=-]+$",
        description="Secret every request must carry (`Authorization: Bearer TOKEN`, or log in once "
        "with `?token=TOKEN`); 16 to 256 URL-safe characters. Required when `host` is not loopback.",
    )
    host: str = Field(
        "127.0.0.1",
        min_length=1,
        max_length=253,
        description="Address to listen on. Loopback by default; any other address needs `token`.",
    )
    port: int = Field(
        8090, ge=0, le=65535, description="TCP port of the page (0: any free port, logged). Up to 65535."
    )
    max_fps: float = Field(
        5.0, ge=0.2, le=30.0, description="Most frames per second encoded and sent to viewers (0.2 to 30)."
    )

    allow_edit: bool = Field(
        False,
        description="Let the page save a drawn zone into the config file (validated, atomic, with a "
        "backup, applied by reload). Off by default: the page only shows a snippet to paste.",
    )

    @field_validator("host")
    @classmethod
    def _token_off_loopback(cls, host: str, info: ValidationInfo) -> str:
        # A token that was given but is invalid is not in `info.data`: it has its own error.
        missing = "token" in info.data and not info.data["token"]
        if info.data.get("enabled") and not is_loopback(host) and missing:
            raise ValueError(
                f"host {host!r} is not a loopback address, so the page needs `preview.token` "
                "(16+ characters, e.g. from `openssl rand -hex 16`), or use host 127.0.0.1"
            )
        return host
