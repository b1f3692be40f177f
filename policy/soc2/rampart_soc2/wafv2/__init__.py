"""WAFv2 policies."""
