"""Security group policies."""
