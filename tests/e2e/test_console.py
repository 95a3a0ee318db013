"""The web console in real Chromium (Debian package) driven by Playwright against a real ``postroom serve``.

Screenshots of the main pages are written to a temporary folder, and into docs/screenshots/ when that file is
missing or POSTROOM_UPDATE_SCREENSHOTS=1 (so a normal run leaves the working tree clean).
"""

from __future__ import annotations

import asyncio
import email
import os
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from agentmail import AsyncAgentMail
from agentmail.api_keys import CreateApiKeyResponse, CreateBearerApiKeyRequest
from agentmail.core.api_error import ApiError
from agentmail.environment import AgentMailEnvironment
from agentmail.inboxes import CreateInboxRequest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.support.mail import send_mail
from tests.support.server import ServerProcess, free_port, running_server
from tests.support.sink import SinkServer

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REMOTE = "example.net"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make test installs chromium (test-tools)")


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    with SinkServer() as server:
        yield server


@pytest.fixture
def server(tmp_path: Path, sink: SinkServer) -> Iterator[ServerProcess]:
    env = {"POSTROOM_MX_OVERRIDES": f"{REMOTE}={sink.address}"}
    with running_server("sqlite", tmp_path, extra_env=env) as process:
        yield process


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


def sdk(server: ServerProcess, key: str | None = None) -> AsyncAgentMail:
    environment = AgentMailEnvironment(http=server.base_url, websockets="")
    return AsyncAgentMail(api_key=key or server.api_key, environment=environment)


async def screenshot(page: Page, name: str, tmp_path: Path) -> None:
    taken = tmp_path / f"{name}.png"
    await page.screenshot(path=str(taken), full_page=True)
    kept = SCREENSHOTS / f"{name}.png"
    if os.environ.get("POSTROOM_UPDATE_SCREENSHOTS") == "1" or not kept.exists():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(taken, kept)


async def sign_in(page: Page, server: ServerProcess, key: str) -> None:
    await page.goto(f"{server.base_url}/console/")
    await page.fill("#api_key", key)
    await page.click("button[type=submit]")


@asynccontextmanager
async def phone_or_desktop(browser: Browser, phone: bool = False) -> AsyncIterator[Page]:
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def test_sign_in_read_live_mail_approve_a_draft_and_manage_keys(
    server: ServerProcess, sink: SinkServer, browser: Browser, tmp_path: Path
) -> None:
    client = sdk(server)
    inbox = await client.inboxes.create(request=CreateInboxRequest(username="support", display_name="Support"))
    async with phone_or_desktop(browser) as page:
        await sign_in(page, server, "pr_not_a_real_key")
        await expect(page.locator(".error")).to_contain_text("Sign-in failed")
        assert page.url.endswith("/console/sign-in")
        await screenshot(page, "sign-in", tmp_path)

        await sign_in(page, server, server.api_key)
        await expect(page.locator("table.rows")).to_contain_text(inbox.inbox_id)
        await screenshot(page, "inboxes", tmp_path)

        await page.click(f"table.rows a:has-text('{inbox.inbox_id}')")
        await expect(page.locator("h1")).to_contain_text(inbox.inbox_id)
        await page.wait_for_selector("body[data-live=ready]")
        await page.evaluate("window.__sameDocument = true")
        await asyncio.to_thread(
            send_mail, server.smtp_port, inbox.inbox_id, "Invoice 42 overdue", "Please pay.\n", f"billing@{REMOTE}"
        )
        await expect(page.locator("#threads")).to_contain_text("Invoice 42 overdue", timeout=30_000)
        assert await page.evaluate("window.__sameDocument") is True  # it appeared without a reload
        await expect(page.locator("#toasts")).to_contain_text("New mail")
        await screenshot(page, "inbox", tmp_path)

        await page.click("#threads a:has-text('Invoice 42 overdue')")
        await expect(page.locator("article.message")).to_contain_text("Please pay.")
        await expect(page.locator("article.message")).to_contain_text(f"billing@{REMOTE}")
        await screenshot(page, "thread", tmp_path)

        draft = await client.inboxes.drafts.create(
            inbox.inbox_id, to=[f"billing@{REMOTE}"], subject="Re: invoice", text="We paid yesterday."
        )
        await page.click("nav >> text=Drafts")
        await expect(page.locator("table.rows")).to_contain_text("Re: invoice")
        await screenshot(page, "drafts", tmp_path)
        await page.click("table.rows a:has-text('Re: invoice')")
        await page.fill("input[name=subject]", "Re: invoice 42 (paid)")
        await screenshot(page, "draft", tmp_path)
        await page.click("text=Approve and send now")
        await expect(page.locator(".notice")).to_contain_text("Sent as")
        [delivered] = await asyncio.to_thread(sink.wait_for, 1, 30)
        assert delivered.rcpt_tos == [f"billing@{REMOTE}"]
        assert email.message_from_bytes(delivered.raw)["Subject"] == "Re: invoice 42 (paid)"
        assert draft.draft_id not in await page.content()

        await page.click("nav >> text=API keys")
        await page.fill("input[name=name]", "triage-bot")
        await page.check("input[name=restricted][value='1']")
        await page.check("input[value=inbox_read]")
        await page.check("input[value=message_read]")
        await page.click("#new-key-form button[type=submit]")
        secret = (await page.locator("#new-key").inner_text()).strip()
        assert secret.startswith("pr_")
        await expect(page.locator("table.rows")).to_contain_text("triage-bot")
        await expect(page.locator("table.rows")).to_contain_text("inbox_read, message_read")
        await screenshot(page, "keys", tmp_path)
        made = sdk(server, secret)
        assert (await made.inboxes.get(inbox.inbox_id)).inbox_id == inbox.inbox_id
        page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await page.click("button[aria-label='Revoke triage-bot']")
        await expect(page.locator(".notice")).to_contain_text("Revoked")
        await expect(page.locator("table.rows")).not_to_contain_text("triage-bot")
        with pytest.raises(ApiError) as refused:
            await made.inboxes.get(inbox.inbox_id)
        assert refused.value.status_code == 401

        for name in ("webhooks", "domains"):
            await page.goto(f"{server.base_url}/console/{name}")
            await expect(page.locator("h1")).to_contain_text(name.capitalize())

        await page.click("text=Sign out")
        await expect(page.locator("#api_key")).to_be_visible()
        await page.goto(f"{server.base_url}/console/inboxes")
        assert page.url.endswith("/console/sign-in")


async def test_an_inbox_key_sees_one_inbox_on_a_phone(server: ServerProcess, browser: Browser, tmp_path: Path) -> None:
    client = sdk(server)
    mine = await client.inboxes.create(request=CreateInboxRequest(username="mine"))
    other = await client.inboxes.create(request=CreateInboxRequest(username="other"))
    created = await client.inboxes.api_keys.create(mine.inbox_id, request=CreateBearerApiKeyRequest(name="scoped"))
    assert isinstance(created, CreateApiKeyResponse)
    async with phone_or_desktop(browser, phone=True) as page:
        await sign_in(page, server, created.api_key)
        rows = page.locator("table.rows tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows).to_contain_text(mine.inbox_id)
        await screenshot(page, "inboxes-phone", tmp_path)
        response = await page.goto(f"{server.base_url}/console/inboxes/{other.inbox_id}")
        assert response is not None
        assert response.status == 404
        assert "not found" in (await page.locator("main").inner_text()).lower()


class _Attacker(BaseHTTPRequestHandler):
    """Serves a page that posts a form to the console from another origin the moment it loads."""

    target = ""

    def do_GET(self) -> None:
        form = (
            f'<form id="f" method="post" action="{self.target}/console/inboxes">'
            '<input name="username" value="evil"><input name="csrf" value="guess"></form>'
            '<script>document.getElementById("f").submit()</script>'
        )
        body = form.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@asynccontextmanager
async def http_server(handler: type[BaseHTTPRequestHandler]) -> AsyncIterator[str]:
    server = HTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_cross_site_form_post_is_refused(server: ServerProcess, browser: Browser) -> None:
    _Attacker.target = server.base_url
    async with phone_or_desktop(browser) as page, http_server(_Attacker) as attacker:
        await sign_in(page, server, server.api_key)
        await expect(page.locator("h1")).to_contain_text("Inboxes")
        async with page.expect_response(f"{server.base_url}/console/inboxes") as answered:
            await page.goto(attacker)  # same site (127.0.0.1, another port): the session cookie is sent
        assert (await answered.value).status == 403
        forged = await page.request.post(f"{server.base_url}/console/inboxes", form={"username": "evil2"})
        assert forged.status == 403  # no CSRF token, from the console's own cookie jar
    names = [inbox.inbox_id for inbox in (await sdk(server).inboxes.list()).inboxes or []]
    assert not any(name.startswith("evil") for name in names)


class _Pixel(BaseHTTPRequestHandler):
    hits: list[str] = []
    arrived = threading.Event()

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        type(self).arrived.set()
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


async def test_html_mail_runs_no_script_and_loads_nothing_until_asked(server: ServerProcess, browser: Browser) -> None:
    client = sdk(server)
    inbox = await client.inboxes.create(request=CreateInboxRequest(username="html"))
    async with http_server(_Pixel) as tracker, phone_or_desktop(browser) as page:
        html = (
            "<p>Hello <b>there</b></p>"
            f'<img src="{tracker}/pixel.png" alt="tracker">'
            f'<img src="x" onerror="fetch(\'{tracker}/onerror\')">'
            "<script>parent.document.title = 'pwned'; fetch('" + tracker + "/script')</script>"
        )
        raw = (
            f"From: news@{REMOTE}\r\nTo: {inbox.inbox_id}\r\nSubject: Newsletter\r\nMessage-ID: <news1@{REMOTE}>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n"
        )
        await asyncio.to_thread(_send_raw, server.smtp_port, inbox.inbox_id, raw)
        console_errors: list[str] = []
        page.on("console", lambda message: console_errors.append(message.text))
        await sign_in(page, server, server.api_key)
        await page.goto(f"{server.base_url}/console/inboxes/{inbox.inbox_id}")
        await page.click("#threads a:has-text('Newsletter')")
        frame_element = page.locator("iframe")
        await expect(frame_element).to_be_visible()
        frame = page.frame_locator("iframe")
        await expect(frame.locator("b")).to_have_text("there")
        assert await frame.locator("script").count() == 0
        assert await page.title() != "pwned"
        await page.evaluate("() => new Promise((resolve) => requestAnimationFrame(() => resolve(null)))")
        assert _Pixel.hits == []  # no tracking pixel, no script fetch, no onerror handler
        await page.click("text=Show remote images")
        await asyncio.to_thread(_Pixel.arrived.wait, 30)
        assert _Pixel.hits == ["/pixel.png"]  # once asked, only the image itself; scripts still never ran
        assert await page.title() != "pwned"


def _send_raw(port: int, to: str, raw: str) -> None:
    import smtplib

    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail(f"news@{REMOTE}", [to], raw.encode())
