"""posed's remote-inference backend: an Open Inference Protocol (KServe v2) server runs the models."""
