"""Operator commands (not shipped in any function package)."""
