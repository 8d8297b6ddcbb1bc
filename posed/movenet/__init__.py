"""MoveNet (single-pose Lightning / Thunder, MultiPose Lightning) as tfjs pose-detection runs it.

Modules: `config` holds the model's options, `layout` recognises a MoveNet file,
`resample` builds the input tensor (tfjs's crop-and-resize and resize-and-pad),
`crop` the single-pose smart cropping, `smoothing` the keypoint filter, `decode`
turns the raw output into poses, `estimator` ties them to a backend session.
"""
