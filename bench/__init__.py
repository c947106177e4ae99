"""Measurements: `make bench` (per-request overhead, cold start, memory, connections) and `make load`."""
