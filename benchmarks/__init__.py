"""Benchmarks: scripts that measure and print figures side by side (not tests)."""
