"""Tests of the compute engines (providers/compute): pools, the start-up script, each engine."""
