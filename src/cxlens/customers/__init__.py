"""Customers: profiles, identities, identity resolution and merges.

The names below are the slice's public API: the ways in (web/, cli/) import only these
(import-linter contract "Ways in use slices through their facades")."""

from __future__ import annotations

from cxlens.customers.queries import access_customer, search_customers
from cxlens.customers.service import merge_customers, unmerge

__all__ = ["access_customer", "merge_customers", "search_customers", "unmerge"]
