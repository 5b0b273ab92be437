"""What the domain apps share and which knows nothing of either: see docs/ARCHITECTURE.md."""
