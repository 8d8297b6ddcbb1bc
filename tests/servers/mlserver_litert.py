"""An MLServer runtime that serves a .tflite file with LiteRT: the tests' real Open Inference Protocol server.

It runs inside MLServer's own virtual environment (.venv-mlserver, made by .ci/setup),
never in posed's. Each model directory's model-settings.json names this class and the
file (`parameters.uri`); the tensor metadata that the protocol's ModelMetadata returns
is read from the file itself, so a wrong file shows as wrong metadata, as on Triton.

A server that misbehaves on demand: with `parameters.extra.fault_file`, each request
reads that file and, when it names a fault (FAULTS), answers accordingly instead of
with the model's outputs. An empty or missing file: normal answers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse, MetadataTensor

_DATATYPES = {"float32": "FP32", "uint8": "UINT8", "int8": "INT8", "int32": "INT32"}
FAULTS = ("raise", "shape", "float64", "empty", "inf", "huge", "nan")


class LiteRTModel(MLModel):
    async def load(self) -> bool:
        uri = self.settings.parameters.uri if self.settings.parameters else None
        if not uri:
            raise ValueError("model-settings.json needs parameters.uri: the .tflite file")
        extra = (self.settings.parameters.extra if self.settings.parameters else None) or {}
        self._fault_file = Path(extra["fault_file"]) if "fault_file" in extra else None
        self._interpreter = Interpreter(model_path=uri, num_threads=1)
        self._interpreter.allocate_tensors()
        self._lock = asyncio.Lock()  # one interpreter: one run at a time
        self._in = self._interpreter.get_input_details()
        self._out = self._interpreter.get_output_details()
        self.inputs = [_metadata(d) for d in self._in]
        self.outputs = [_metadata(d) for d in self._out]
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        by_name = {item.name: item for item in payload.inputs}
        async with self._lock:
            for detail in self._in:
                request_input = by_name[detail["name"]]
                array = NumpyCodec.decode_input(request_input)
                self._interpreter.set_tensor(
                    detail["index"], array.astype(detail["dtype"], copy=False).reshape(detail["shape"])
                )
            self._interpreter.invoke()
            wanted = {o.name for o in payload.outputs} if payload.outputs else None
            fault = self._fault()
            outputs = [
                NumpyCodec.encode_output(
                    d["name"], _faulty(np.array(self._interpreter.get_tensor(d["index"])), fault)
                )
                for d in self._out
                if wanted is None or d["name"] in wanted
            ]
        return InferenceResponse(model_name=self.name, model_version=self.version, outputs=outputs)

    def _fault(self) -> str:
        if self._fault_file is None or not self._fault_file.exists():
            return ""
        fault = self._fault_file.read_text().strip()
        if fault == "raise":
            raise RuntimeError("the model failed (a fault the test asked for)")
        return fault


def _faulty(array: np.ndarray, fault: str) -> np.ndarray:
    if fault == "shape":
        return array.reshape(-1)[: max(array.size // 2, 1)]
    if fault == "float64":
        return array.astype(np.float64)
    if fault == "empty":
        return np.zeros((0,), dtype=array.dtype)
    values = {"inf": np.inf, "huge": 3e38, "nan": np.nan}
    if fault in values and array.dtype.kind == "f":
        return np.full(array.shape, values[fault], dtype=array.dtype)
    return array


def _metadata(detail: dict) -> MetadataTensor:
    dtype = np.dtype(detail["dtype"]).name
    return MetadataTensor(
        name=detail["name"], datatype=_DATATYPES[dtype], shape=[int(d) for d in detail["shape"]]
    )
