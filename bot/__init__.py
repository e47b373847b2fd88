"""akbot — the Matrix bot of the LVR/LWL Facharbeitskreis Künstliche Intelligenz."""

__version__ = "0.1.0"
