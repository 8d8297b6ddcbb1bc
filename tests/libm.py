"""The C library's float functions through ctypes, one scalar a call: the reference for blazepose.cmath.

MediaPipe's C++ calls these very functions (glibc's expf, cosf, sinf,
atan2f), so a test that compares with them compares with what MediaPipe gets.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np


class _Libm:
    def __init__(self) -> None:
        path = ctypes.util.find_library("m")
        assert path is not None, "no C maths library found"
        library = ctypes.CDLL(path)
        self._functions = {}
        for name, arity in (("expf", 1), ("cosf", 1), ("sinf", 1), ("atan2f", 2)):
            function = getattr(library, name)
            function.restype = ctypes.c_float
            function.argtypes = [ctypes.c_float] * arity
            self._functions[name] = function

    def expf(self, x: float | np.float32) -> np.float32:
        return np.float32(self._functions["expf"](np.float32(x)))

    def cosf(self, x: float | np.float32) -> np.float32:
        return np.float32(self._functions["cosf"](np.float32(x)))

    def sinf(self, x: float | np.float32) -> np.float32:
        return np.float32(self._functions["sinf"](np.float32(x)))

    def atan2f(self, y: float | np.float32, x: float | np.float32) -> np.float32:
        return np.float32(self._functions["atan2f"](np.float32(y), np.float32(x)))


LIBM = _Libm()
