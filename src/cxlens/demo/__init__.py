"""The synthetic demo company (seeded, with planted effects; docs/demo.md)."""
