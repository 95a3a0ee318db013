"""Every tests/corpus/*.eml delivered over real SMTP (smtplib, and a few via swaks) into `postroom serve`.

Each is accepted, listed and fetched through the official SDK, and its raw download is the file byte for byte
below the Authentication-Results header Postroom adds. These files claim many sender domains that publish nothing
in the tests' DNS, and arrive from 127.0.0.1 with the envelope sender at example.org: each is stored as
``unauthenticated``, as it would be in production, except those whose From is in example.org (SPF passes, aligned).
"""

from __future__ import annotations

import shutil
import smtplib
import subprocess
import traceback
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from pathlib import Path

import httpx
import pytest
from agentmail import AgentMail
from agentmail.environment import AgentMailEnvironment
from agentmail.inboxes import CreateInboxRequest

from tests.support.databases import postgres_database
from tests.support.server import ServerProcess
from tests.support.trust import split_verdict

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
FILES = sorted(CORPUS.glob("*.eml"))
# 40 has a body line starting with "." (dot-stuffing), 48 raw UTF-8 headers, 34 998-octet lines.
SWAKS_FILES = [name for name in (p.name for p in FILES) if name[:2] in {"03", "11", "19", "34", "40", "48"}]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir: Path = tmp_path_factory.mktemp(f"corpus-{request.param}")
    if request.param == "sqlite":
        process = ServerProcess(data_dir).start()
        yield process
        process.stop()
        return
    with postgres_database() as url:
        process = ServerProcess(data_dir, database_url=url).start()
        yield process
        process.stop()


@pytest.fixture(scope="module")
def sdk(server: ServerProcess) -> AgentMail:
    return AgentMail(api_key=server.api_key, environment=AgentMailEnvironment(http=server.base_url, websockets=""))


def new_inbox(sdk: AgentMail) -> str:
    return str(sdk.inboxes.create(request=CreateInboxRequest(username=f"corpus-{uuid.uuid4().hex[:10]}")).inbox_id)


def test_corpus_files_are_valid_smtp_data() -> None:
    assert len(FILES) == 50
    for path in FILES:
        raw = path.read_bytes()
        assert raw.endswith(b"\r\n"), path.name
        assert b"\n" not in raw.replace(b"\r\n", b""), f"{path.name}: bare LF"
        assert b"\r" not in raw.replace(b"\r\n", b""), f"{path.name}: bare CR"
        assert b"\x00" not in raw, path.name
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998, path.name


def expected_label(raw: bytes) -> str:
    """``received`` when the From domain aligns with the envelope sender's example.org (SPF passes for it)."""
    [(_, address)] = getaddresses([str(BytesHeaderParser(policy=compat32).parsebytes(raw)["From"])])
    domain = address.rpartition("@")[2].lower()
    return "received" if domain == "example.org" or domain.endswith(".example.org") else "unauthenticated"


def check_stored(sdk: AgentMail, inbox_id: str, raw: bytes) -> None:
    label = expected_label(raw)
    visible = sdk.inboxes.messages.list(inbox_id).count
    assert visible == (1 if label == "received" else 0)  # unauthenticated mail is hidden unless asked for
    listed = sdk.inboxes.messages.list(inbox_id, include_unauthenticated=True)
    assert listed.count == 1
    item = listed.messages[0]
    assert item.labels == [label, "unread"]
    message = sdk.inboxes.messages.get(inbox_id, item.message_id)
    assert message.message_id == item.message_id
    assert message.thread_id == item.thread_id
    assert (message.headers or {})["Authentication-Results"].startswith("localhost;")
    for attachment in message.attachments or []:
        link = sdk.inboxes.messages.get_attachment(inbox_id, message.message_id, attachment.attachment_id)
        body = httpx.get(link.download_url, timeout=10)
        assert body.status_code == 200
        assert len(body.content) == attachment.size
    raw_link = sdk.inboxes.messages.get_raw(inbox_id, message.message_id)
    downloaded = httpx.get(raw_link.download_url, timeout=10).content
    assert raw_link.size == message.size == len(downloaded)
    added, sent = split_verdict(downloaded)
    assert b"\r\nAuthentication-Results: localhost;" in added  # below the Return-Path, above our Received
    assert sent == raw, "raw download differs from the delivered file below the verdict"
    thread = sdk.inboxes.threads.get(inbox_id, message.thread_id)
    assert [m.message_id for m in thread.messages] == [message.message_id]


def deliver_with_smtplib(server: ServerProcess, inbox_id: str, path: Path) -> bytes:
    raw = path.read_bytes()
    # SMTPUTF8 is needed for raw UTF-8 headers (48); smtplib only sends it when asked and the server offers it.
    options = ["SMTPUTF8"] if path.name.startswith("48-") else []
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        if options:
            assert smtp.has_extn("smtputf8")
        assert smtp.mail("sender@example.org", options)[0] == 250
        assert smtp.rcpt(inbox_id)[0] == 250
        code, reply = smtp.data(raw)  # smtplib dot-stuffs; the server must undo it exactly
        assert code == 250, reply
    return raw


def deliver_with_swaks(server: ServerProcess, inbox_id: str, path: Path) -> bytes:
    command = ["swaks", "--to", inbox_id, "--from", "swaks@example.org", "--server", f"127.0.0.1:{server.smtp_port}"]
    result = subprocess.run([*command, "--data", f"@{path}"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<-  250" in result.stdout
    # swaks's data fixup always appends "\r\n." to the data, so a file that already ends in CRLF arrives with one
    # more empty line; everything else (headers, dot-stuffed lines, 8-bit bytes) must come back byte for byte.
    return path.read_bytes() + b"\r\n"


def run_one(server: ServerProcess, sdk: AgentMail, how: str, path: Path) -> str | None:
    """Deliver one file and check it; return None, or the failure as text (so each file reports on its own)."""
    try:
        inbox_id = new_inbox(sdk)
        raw = (deliver_with_swaks if how == "swaks" else deliver_with_smtplib)(server, inbox_id, path)
        check_stored(sdk, inbox_id, raw)
    except Exception:  # reported by the test for this file
        return traceback.format_exc()
    return None


@pytest.fixture(scope="module")
def outcomes(server: ServerProcess, sdk: AgentMail) -> dict[tuple[str, str], str | None]:
    """Every delivery of the module, run eight at a time (which also exercises concurrent ingest)."""
    jobs = [("smtplib", path) for path in FILES]
    if shutil.which("swaks"):
        jobs += [("swaks", CORPUS / name) for name in SWAKS_FILES]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda job: run_one(server, sdk, *job), jobs))
    return {(how, path.name): result for (how, path), result in zip(jobs, results, strict=True)}


@pytest.mark.parametrize("name", [p.name for p in FILES])
def test_smtplib_delivery(outcomes: dict[tuple[str, str], str | None], name: str) -> None:
    failure = outcomes[("smtplib", name)]
    assert failure is None, failure


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is installed by `make test`")
@pytest.mark.parametrize("name", SWAKS_FILES)
def test_swaks_delivery(outcomes: dict[tuple[str, str], str | None], name: str) -> None:
    failure = outcomes[("swaks", name)]
    assert failure is None, failure
