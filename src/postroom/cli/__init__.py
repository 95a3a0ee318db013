"""The ``postroom`` command: the server (serve, migrate, settings) and clients for people (inboxes, pods, keys)."""
