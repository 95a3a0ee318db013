"""Who may do what: API keys, organizations, pods and inboxes, and resolving ids within a key's scope."""
