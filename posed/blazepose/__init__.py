"""BlazePose (MediaPipe Pose, legacy graph): detector, ROI tracking, landmarks, smoothing.

Shared by every backend: a backend only runs the two models on tensors.
"""
