"""Docker image policies."""
