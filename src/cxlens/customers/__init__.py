"""Customers: profiles, identities, identity resolution and merges."""
