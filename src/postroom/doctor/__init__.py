"""``postroom doctor``: checks of a deployment (database, blobs, DNS, domain records, ports, TLS), each ok/warn/fail."""
