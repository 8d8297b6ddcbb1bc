"""posed: a pose-estimation daemon for edge devices.

Importing posed has no side effects: no hardware probing, no plugin loading,
no network access and no environment writes.
"""

from __future__ import annotations

__version__ = "0.1.0"
