"""Benchmarks that print ratios (results in docs/); ``bench.support`` is their shared harness."""
