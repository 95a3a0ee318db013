"""The JSON shapes of requests and responses, one module per resource family."""
