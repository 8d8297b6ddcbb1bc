"""posed's TFLite backend: LiteRT (or tflite-runtime), XNNPACK and the Coral Edge TPU."""
