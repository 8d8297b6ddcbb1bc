"""Known models, where they are stored, and how they are found."""
