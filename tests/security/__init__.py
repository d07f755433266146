"""Attacks on the service, reproduced: each must now fail safely (issue 13)."""
