"""Channel adapters: one folder per channel, listed in :mod:`channels.registry`."""
