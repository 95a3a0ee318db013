"""Inbound trust: authentication verdicts (SPF, DKIM, DMARC, ARC), spam screening and allow/block lists."""
