"""S3 policies (aws 7.x: settings are separate resources)."""
