"""caregraph: who is responsible for what in English adult social care."""

__version__ = "0.1.0"
