"""Watching the cluster: the Prometheus exporter and its metric names, the GPU collector, Flower
wiring and the terminal dashboard. Reads what `orchestrator` stores and `workers` measure.

May import `common`, `chunking`, `providers`, `workers` and `orchestrator`; only `cli` imports it.
"""
