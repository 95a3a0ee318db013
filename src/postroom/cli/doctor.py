"""``postroom doctor``: check this deployment and print one table row per check; exit 1 when any check failed."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table

STYLES = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def doctor() -> None:
    """Check the database and migrations, blob store, DNS, each domain's MX/SPF/DKIM/DMARC, ports and TLS."""
    from postroom.clock import SystemClock
    from postroom.config import Settings
    from postroom.doctor.report import Status
    from postroom.doctor.run import run_checks

    checks = run_checks(Settings(), SystemClock())
    table = Table("check", "status", "detail", title="postroom doctor")
    for check in checks:
        table.add_row(check.name, f"[{STYLES[check.status.value]}]{check.status.value}[/]", check.detail)
    # Piped (a log, a CI job): wide enough that each check stays on one line, whatever the detail says.
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    failed = sum(check.status is Status.FAIL for check in checks)
    warned = sum(check.status is Status.WARN for check in checks)
    typer.echo(f"{len(checks)} checks: {failed} failed, {warned} warnings.")
    if failed:
        raise typer.Exit(1)
