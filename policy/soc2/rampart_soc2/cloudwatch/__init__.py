"""CloudWatch Logs and alarm policies."""
