"""Custom domains: the API's use cases, DNS verification, and which domains this server hosts mail for."""
