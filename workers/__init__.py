"""What runs on a render node."""
