"""Prometheus instrumentation: the collectors every layer may record into, and their text exposition."""
