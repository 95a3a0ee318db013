"""Pure domain model: entities, identifiers and the rules that govern them (standard library only)."""
