"""HTTP transport: the AgentMail REST API over FastAPI; routes parse, call one service and serialise."""
