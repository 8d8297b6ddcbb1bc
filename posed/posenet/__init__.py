"""PoseNet (MobileNetV1 / ResNet50): single- and multi-person decoding as Coral's decoder does it.

Modules: `layout` recognises the model, `quantfix` corrects Coral's clipping
output quantization, `preprocess` builds the input, `maps` holds the
dequantized outputs, `decode_single` / `decode_multi` decode, `estimator`
ties them to a backend session.
"""
