"""The autoscaler: how many nodes each pool should hold, and making the engines hold them.

``model`` holds the plain data a decision is made from (``Snapshot``, ``Policy``, ``Decision``);
``decide`` is the pure decision; ``policy`` reads the ``[autoscaler]`` table; ``ledger`` records
every node's life and bills it; ``loop`` is the shell run on the orchestrator's tick: it builds
a snapshot from the job store, the ledger and the heartbeats, decides, drains and actuates
through ``providers.compute`` (``node_actions``: what it does to single nodes).
"""
