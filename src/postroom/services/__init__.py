"""Use cases: the only place a transaction begins and commits; one module per resource family."""
