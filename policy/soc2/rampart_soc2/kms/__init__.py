"""KMS policies."""
