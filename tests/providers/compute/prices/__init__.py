"""Tests of the price catalogue (providers/compute/prices): loading, validation, refresh."""
