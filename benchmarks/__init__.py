"""Benchmarks of srs beside Anki's engine (`make bench`); not tests, and not shipped."""
