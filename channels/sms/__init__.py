"""SMS channel: inbound from an SMS gateway, outbound through its HTTP API."""
