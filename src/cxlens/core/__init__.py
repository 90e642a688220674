"""Kernel: paging and the domain-event base. Imports nothing from cxlens."""
