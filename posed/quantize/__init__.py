"""`posed models quantize`: int8 variants of BlazePose's models, calibrated on posed's own crops.

Nothing here is imported by `posed run`; the quantizers (nncf, ai-edge-quantizer,
the `quantize` extra) are imported only when a variant is made.
"""
