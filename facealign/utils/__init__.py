"""Small helpers shared across sub-packages."""
