"""The Metrics API (spec §3.13): usage counters kept with each change, and queries over the rollups."""
