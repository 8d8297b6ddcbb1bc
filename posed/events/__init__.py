"""Event analyzers: zones, falls, reps and gestures over a camera's stream of poses."""
