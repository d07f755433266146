"""Tests of the HTTP service (server/): routes over a real embedded cluster, auth, limits."""
