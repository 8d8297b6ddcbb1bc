"""posed's OpenVINO backend: reads .tflite directly and runs it on CPU, GPU, NPU or AUTO."""
