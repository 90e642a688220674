"""Interactions: the touchpoint stream, and the unified customer timeline."""
