"""pytest plugin: no secret the run created may appear in any log line the run wrote (issue 15, item 2).

Collects secrets as they appear: the key each ``postroom serve`` prints once at first start, and every API key,
webhook secret and download token in an HTTP response the tests receive (httpx: the SDK, TestClient, plain
clients). At the end of the session it greps the logs of the run: every server process's log file
(``tests.support.server.SERVER_LOGS``) and the log records emitted in-process, formatted as ``postroom serve``
formats them (with its redaction filter). A secret found, or anything shaped like one, fails the session.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from postroom.redaction import REDACTED, RedactingFilter
from tests.support.server import KEY_LINE, SERVER_LOGS

# Shapes of the secrets Postroom issues; "[redacted]" right after a prefix is what the filter leaves.
SHAPES = (
    re.compile(r"\bpr_[A-Za-z0-9]{16,}"),
    re.compile(r"\bwhsec_[A-Za-z0-9+/=]{8,}"),
    re.compile(r"/downloads/(?!\[redacted\])[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),
)
TOKEN_IN_URL = re.compile(r"/downloads/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")
MIN_SECRET_CHARS = 12


@dataclass
class Ledger:
    secrets: set[str] = field(default_factory=set)
    records: list[str] = field(default_factory=list)

    def collect(self, text: str) -> None:
        for shape in SHAPES[:2]:
            self.secrets.update(shape.findall(text))
        self.secrets.update(TOKEN_IN_URL.findall(text))

    def findings(self, source: str, text: str) -> Iterator[str]:
        for number, line in enumerate(text.splitlines(), 1):
            if KEY_LINE.fullmatch(line.strip()):
                continue  # the key a first start prints once on purpose (stdout, for the operator), not a log line
            hits = [secret for secret in self.secrets if len(secret) >= MIN_SECRET_CHARS and secret in line]
            hits += [match.group(0) for shape in SHAPES for match in shape.finditer(line)]
            if hits:
                yield f"{source}:{number}: {line[:300]}"


LEDGER = Ledger()


class _RecordCollector(logging.Handler):
    """Every in-process record, formatted like ``postroom serve`` formats it (message, then any traceback)."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(RedactingFilter())
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            LEDGER.records.append(self.format(record))
        except Exception:  # a record that cannot be formatted is not a log line anyone reads
            return


_COLLECTOR = _RecordCollector()


def _scan_response(response: httpx.Response) -> None:
    try:
        content = response.content
    except httpx.ResponseNotRead:
        return
    LEDGER.collect(content.decode("latin-1"))


def _wrap(original: Any) -> Any:
    def send(self: Any, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = original(self, request, **kwargs)
        if not kwargs.get("stream"):
            _scan_response(response)
        return response

    return send


def _wrap_async(original: Any) -> Any:
    async def send(self: Any, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = await original(self, request, **kwargs)
        if not kwargs.get("stream"):
            _scan_response(response)
        return response

    return send


def pytest_configure(config: pytest.Config) -> None:
    httpx.Client.send = _wrap(httpx.Client.send)  # type: ignore[method-assign]
    httpx.AsyncClient.send = _wrap_async(httpx.AsyncClient.send)  # type: ignore[method-assign]
    logging.getLogger().addHandler(_COLLECTOR)


def leaks() -> list[str]:
    """Log lines of the run so far that hold a secret (also used by the direct tests)."""
    found: list[str] = []
    for path in dict.fromkeys(SERVER_LOGS):
        if path.exists():
            text = path.read_text(errors="replace")
            LEDGER.secrets.update(KEY_LINE.findall(text))
    for path in dict.fromkeys(SERVER_LOGS):
        if path.exists():
            found.extend(LEDGER.findings(str(path), path.read_text(errors="replace")))
    found.extend(LEDGER.findings("in-process log", "\n".join(LEDGER.records)))
    return found


_WORKER_REPORTS: list[dict[str, object]] = []  # under pytest-xdist: what each worker found, gathered by the controller


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """pytest-xdist's controller hook: a worker ended; keep its findings for the controller's verdict."""
    output = getattr(node, "workeroutput", None)
    if isinstance(output, dict) and "log_secrets" in output:
        _WORKER_REPORTS.append(output["log_secrets"])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(_COLLECTOR)
    found = leaks()
    secrets, logs, records = len(LEDGER.secrets), len(dict.fromkeys(SERVER_LOGS)), len(LEDGER.records)
    worker_output = getattr(session.config, "workeroutput", None)
    if isinstance(worker_output, dict):  # a pytest-xdist worker: the controller reports and decides
        worker_output["log_secrets"] = {"found": found, "secrets": secrets, "logs": logs, "records": records}
        return
    for report in _WORKER_REPORTS:
        found.extend(str(line) for line in report["found"])  # type: ignore[attr-defined]
        secrets += int(report["secrets"])  # type: ignore[call-overload]
        logs += int(report["logs"])  # type: ignore[call-overload]
        records += int(report["records"])  # type: ignore[call-overload]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if found:
        if reporter is not None:
            reporter.write_sep("=", f"secrets in logs: {len(found)} line(s)", red=True)
            for line in found[:50]:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter is not None and session.config.getoption("verbose") >= 0:
        reporter.write_line(
            f"log secrets check: {secrets} secrets, {logs} server logs, "
            f"{records} in-process records: none leaked ({REDACTED} where redacted)"
        )
