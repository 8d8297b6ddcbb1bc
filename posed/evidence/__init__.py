"""Evidence of events: a snapshot per event (JPEG with the skeleton drawn), fall clips, privacy.

Importing this package loads nothing heavy: OpenCV is imported where a picture is made.
- posed.evidence.config: the `snapshots:` section and each camera's `privacy`;
- posed.evidence.privacy: what a camera's picture may show (full, blurred, skeleton only);
- posed.evidence.store: the bounded on-disk store of snapshots and clips;
- posed.evidence.ring: the bounded ring of encoded frames a clip is cut from;
- posed.evidence.clip: an MP4 from encoded frames;
- posed.evidence.recorder: the one thread that renders, stores and publishes, off the inference loop.
"""
