"""Events: webhooks and their subscriptions, and dispatching committed outbox rows to them."""
