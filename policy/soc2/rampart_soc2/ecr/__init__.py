"""ECR policies."""
