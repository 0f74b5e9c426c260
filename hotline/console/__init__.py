"""The web console: one static page for agents, dispatchers, units and leaders, over the REST API."""
