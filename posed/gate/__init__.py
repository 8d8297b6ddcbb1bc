"""The motion gate: the stage between a camera's frames and the pose estimator.

With nobody in view, the estimator runs only when a small grey copy of the frame
shows motion against a background, or at a keep-alive interval; while anyone is
tracked, or a fall is in progress, it runs on every frame. See docs/motion-gate.md.
"""
