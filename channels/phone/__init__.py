"""Phone channel: generic CTI webhook and Asterisk ARI, call records, screen pops."""
