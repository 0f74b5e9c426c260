"""Routing: classify new tickets, find their area, pick the handling unit, flag emergencies."""
