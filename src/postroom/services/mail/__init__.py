"""Received and stored mail: receiving, filing into threads, reading, labels, search and the inbox event log."""
