"""Person identities across frames: the run-wide id source and the PoseNet pose trackers."""
