"""The ``facealign`` command line."""
