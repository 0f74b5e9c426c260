"""The 12345 hotline engine core: tickets, lifecycle, storage, intake, API and CLI."""

__version__ = "0.1.0"
