"""Storage and compute providers behind small interfaces."""
