"""Storage and compute providers behind small interfaces (today: object storage, ``storage``).

Providers sit at the bottom of the layering: they may import only ``common`` (settings, the
error root) and third-party SDKs, never chunking, workers, orchestrator, monitoring or cli.
"""
