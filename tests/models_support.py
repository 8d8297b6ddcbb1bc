"""Helpers for the model-store tests: a local HTTP server standing in for the official
download hosts, and variants of the real shared models rewritten through the TFLite schema
(Coral's decoder op appended, an Edge TPU marker, an output removed) for the cases no real
file here covers."""

from __future__ import annotations

import re
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from pathlib import Path
from typing import Any

from posed.tflite_file import TFLITE_IDENTIFIER, schema


@dataclass
class ServedFiles:
    """What the test server serves; `modes` per file name: ok, truncate, truncate-once, corrupt."""

    files: dict[str, bytes]
    modes: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (name, Range header)
    _cut: set[str] = field(default_factory=set)


class _Handler(BaseHTTPRequestHandler):
    served: ServedFiles

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        name = self.path.lstrip("/").split("?", 1)[0]
        self.served.requests.append((name, self.headers.get("Range")))
        data = self.served.files.get(name)
        if data is None:
            self.send_error(404)
            return
        mode = self.served.modes.get(name, "ok")
        if mode == "corrupt":
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match:
            start = int(match.group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        cut = mode == "truncate" or (mode == "truncate-once" and name not in self.served._cut)
        if cut:
            self.served._cut.add(name)
            body = body[: len(body) // 2]  # announce everything, send half, hang up
        self.wfile.write(body)
        self.close_connection = True


@contextmanager
def http_server(served: ServedFiles) -> Iterator[str]:
    """Serve `served` on 127.0.0.1; yields the base URL."""
    handler = type("Handler", (_Handler,), {"served": served})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def https_server(served: ServedFiles, certfile: Path, keyfile: Path) -> Iterator[str]:
    """`http_server` over TLS with the given certificate; yields https://127.0.0.1:PORT."""
    handler = type("Handler", (_Handler,), {"served": served})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certfile), str(keyfile))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def rewrite_model(src: Path, dest: Path, edit: Callable[[Any], None]) -> Path:
    sch = schema()
    model = sch.ModelT.InitFromPackedBuf(src.read_bytes(), 0)
    edit(model)
    flatbuffers: Any = import_module("flatbuffers")
    builder = flatbuffers.Builder(src.stat().st_size + 4096)
    builder.Finish(model.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    dest.write_bytes(bytes(builder.Output()))
    return dest


def _add_custom_code(model: Any, name: str) -> int:
    sch = schema()
    code = sch.OperatorCodeT()
    code.builtinCode = sch.BuiltinOperator.CUSTOM
    code.deprecatedBuiltinCode = sch.BuiltinOperator.CUSTOM
    code.customCode = name
    code.version = 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def with_posenet_decoder(src: Path, dest: Path) -> Path:
    """Append a PosenetDecoderOp as Coral's *_decoder.tflite files have it: maps in, poses out."""
    sch = schema()

    def edit(model: Any) -> None:
        graph = model.subgraphs[0]
        maps = [int(i) for i in graph.outputs]
        new = []
        for name, shape in (
            ("poses", [1, 10, 17, 2]),
            ("scores", [1, 10, 17]),
            ("pose_scores", [1, 10]),
            ("n", [1]),
        ):
            tensor = sch.TensorT()
            tensor.name, tensor.shape, tensor.type, tensor.buffer = name, shape, sch.TensorType.FLOAT32, 0
            graph.tensors.append(tensor)
            new.append(len(graph.tensors) - 1)
        op = sch.OperatorT()
        op.opcodeIndex = _add_custom_code(model, "PosenetDecoderOp")
        op.inputs, op.outputs = maps, new
        graph.operators.append(op)
        graph.outputs = new

    return rewrite_model(src, dest, edit)


def with_custom_code(src: Path, dest: Path, name: str) -> Path:
    """`src` declaring one more (unused) custom operator, the way compiled models name theirs."""

    def edit(model: Any) -> None:
        _add_custom_code(model, name)

    return rewrite_model(src, dest, edit)


def without_last_output(src: Path, dest: Path) -> Path:
    def edit(model: Any) -> None:
        model.subgraphs[0].outputs = model.subgraphs[0].outputs[:-1]

    return rewrite_model(src, dest, edit)


def isolate(monkeypatch: Any, tmp_path: Path) -> Path:
    """No model directory of the machine leaks in; returns a fresh store path."""
    for var in ("POSED_MODEL_DIR", "STATE_DIRECTORY", "POSED_MODEL_MIRROR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path / "store"


def staging_leftovers(store: Path) -> list[str]:
    return (
        sorted(p.name for p in store.iterdir() if p.name.startswith(".posed-staging-"))
        if store.exists()
        else []
    )
