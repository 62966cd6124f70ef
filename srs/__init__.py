"""srs: spaced-repetition self-tests for markdown study logs."""

__version__ = "0.1.0"
