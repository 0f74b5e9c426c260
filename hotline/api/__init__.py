"""REST API under /api/v1, the health check and the console login."""
