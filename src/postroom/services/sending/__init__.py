"""Sending mail: composing, signing and queueing messages, the outbound delivery queue and its results."""
