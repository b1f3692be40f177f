"""Application Load Balancer policies."""
