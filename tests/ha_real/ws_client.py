"""Home Assistant websocket commands, run with Home Assistant's own venv (it has aiohttp).

    python ws_client.py http://127.0.0.1:8123 TOKEN '{"type": "config/device_registry/list"}' ...

Prints a JSON list with each command's `result`; exits 1 on a failed command.
Used by tests/test_ha_real.py, which runs in posed's venv (no websocket client there).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from typing import Any


async def run(base: str, token: str, commands: list[dict[str, Any]]) -> list[Any]:
    # Home Assistant's venv has aiohttp; posed's may not (mypy checks this file there).
    aiohttp: Any = importlib.import_module("aiohttp")
    results = []
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{base}/api/websocket") as ws:
        hello = await ws.receive_json()
        if hello.get("type") != "auth_required":
            raise RuntimeError(f"unexpected greeting: {hello}")
        await ws.send_json({"type": "auth", "access_token": token})
        auth = await ws.receive_json()
        if auth.get("type") != "auth_ok":
            raise RuntimeError(f"authentication failed: {auth}")
        for number, command in enumerate(commands, start=1):
            await ws.send_json({"id": number, **command})
            while True:
                reply = await ws.receive_json()
                if reply.get("id") == number and reply.get("type") == "result":
                    break
            if not reply.get("success"):
                raise RuntimeError(f"{command['type']} failed: {reply.get('error')}")
            results.append(reply.get("result"))
    return results


def main() -> int:
    base, token, *raw = sys.argv[1:]
    try:
        results = asyncio.run(run(base, token, [json.loads(r) for r in raw]))
    except Exception as exc:
        print(f"ws_client: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
