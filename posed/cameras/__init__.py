"""Camera sources: picamera2, V4L2/USB, network streams, video files and image folders."""
