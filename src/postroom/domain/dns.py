"""What a DNS lookup can fail with, shared by the resolver adapter and the services that use it through a port."""

from __future__ import annotations


class TemporaryLookupError(Exception):
    """DNS did not answer (timeout, SERVFAIL); asking again later may work."""
