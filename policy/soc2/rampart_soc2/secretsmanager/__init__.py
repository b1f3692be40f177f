"""Secrets Manager policies."""
