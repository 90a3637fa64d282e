"""Benchmarks: speed and memory measured on synthetic data, never in timed tests.

Each one runs as `python -m benchmarks.NAME` and records its figures, with the command and
the machine's load, in benchmarks/README.md.
"""
