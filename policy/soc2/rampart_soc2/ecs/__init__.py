"""ECS policies (cluster, task definition, service)."""
