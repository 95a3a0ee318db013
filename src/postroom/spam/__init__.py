"""Spam engine adapters behind the SpamClassifier port (rspamd over HTTP)."""
