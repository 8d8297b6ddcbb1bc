"""An MLServer runtime that serves a .tflite file with LiteRT: the tests' real Open Inference Protocol server.

It runs inside MLServer's own virtual environment (.venv-mlserver, made by .ci/setup),
never in posed's. Each model directory's model-settings.json names this class and the
file (`parameters.uri`); the tensor metadata that the protocol's ModelMetadata returns
is read from the file itself, so a wrong file shows as wrong metadata, as on Triton.
"""

from __future__ import annotations

import asyncio

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse, MetadataTensor

_DATATYPES = {"float32": "FP32", "uint8": "UINT8", "int8": "INT8", "int32": "INT32"}


class LiteRTModel(MLModel):
    async def load(self) -> bool:
        uri = self.settings.parameters.uri if self.settings.parameters else None
        if not uri:
            raise ValueError("model-settings.json needs parameters.uri: the .tflite file")
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
            outputs = [
                NumpyCodec.encode_output(d["name"], np.array(self._interpreter.get_tensor(d["index"])))
                for d in self._out
                if wanted is None or d["name"] in wanted
            ]
        return InferenceResponse(model_name=self.name, model_version=self.version, outputs=outputs)


def _metadata(detail: dict) -> MetadataTensor:
    dtype = np.dtype(detail["dtype"]).name
    return MetadataTensor(
        name=detail["name"], datatype=_DATATYPES[dtype], shape=[int(d) for d in detail["shape"]]
    )
