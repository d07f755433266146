"""Metrics, GPU exporter, progress events and the terminal dashboard."""
