"""Composition root: Settings -> engine, migrations, blob store, services -> the API, SMTP and the workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from ipaddress import ip_address
from types import FrameType

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from postroom import redaction
from postroom.api.app import create_app, create_health_app
from postroom.api.deps import principal_of
from postroom.api.http_protocol import JsonErrorHttpToolsProtocol
from postroom.api.prometheus import metrics_app, mount_prometheus
from postroom.api.ratelimit import MemoryRateLimits
from postroom.clock import SystemClock
from postroom.config import Settings
from postroom.console.app import mount_console
from postroom.console.session import SECRET_NAME as CONSOLE_SECRET_NAME
from postroom.delivery.dkim import DkimKey, DkimKeyMaker, generate_key
from postroom.delivery.fetch import HttpAttachmentFetcher
from postroom.delivery.routing import parse_mx_overrides, parse_relay_url
from postroom.delivery.signer import DkimSigner
from postroom.delivery.worker import DeliveryWorker, Routes
from postroom.dns.cache import AnswerCache
from postroom.dns.resolver import DnsResolver, parse_dns_servers
from postroom.domain.downloads import DownloadSigner
from postroom.domain.outbound import RetryPolicy
from postroom.domain.pagination import PageTokens
from postroom.domain.return_path import ReturnPaths
from postroom.domain.zone import is_fully_qualified
from postroom.events.dispatcher import Dispatcher
from postroom.events.hub import Hub
from postroom.events.sender import WebhookSender
from postroom.mcp.http import mount_mcp
from postroom.net.hosts import HostAddresses
from postroom.observability.database import watch_pool
from postroom.observability.exposition import Exposition, process_exited
from postroom.roles import ROLES, parse_roles
from postroom.services.access.api_keys import ApiKeyService
from postroom.services.access.authentication import (
    DOWNLOAD_SECRET_NAME,
    PAGE_TOKEN_SECRET_NAME,
    RETURN_PATH_SECRET_NAME,
    AccessService,
    Bootstrap,
)
from postroom.services.access.inboxes import InboxService
from postroom.services.access.pods import PodService
from postroom.services.container import Services
from postroom.services.domains.catalogue import DefaultDomain, DomainCatalogue
from postroom.services.domains.checker import DomainCheckTicker
from postroom.services.domains.domains import DomainService
from postroom.services.domains.hosting import HostedDomains
from postroom.services.domains.verification import DomainVerifier
from postroom.services.drafts.drafts import DraftService
from postroom.services.drafts.ticker import ScheduledDraftTicker
from postroom.services.events.dispatch import DispatchPolicy, DispatchService
from postroom.services.events.webhooks import WebhookService
from postroom.services.mail.inbox_events import InboxEventService
from postroom.services.mail.mailbox import MailService
from postroom.services.mail.receive import ReceiveService
from postroom.services.mail.search import SearchService
from postroom.services.metrics.backlog import BacklogReader
from postroom.services.metrics.queries import MetricsService
from postroom.services.ports import BlobStore, Clock, RateLimits, SpamClassifier
from postroom.services.sending.outbound import OutboundService
from postroom.services.sending.send import OutboundSettings, SendService
from postroom.services.trust.authentication import InboundAuthenticator
from postroom.services.trust.lists import ListService
from postroom.services.trust.relays import parse_networks
from postroom.services.trust.screening import Screening
from postroom.services.upkeep.retention import RetentionPolicy, RetentionService, keep_days
from postroom.services.upkeep.ticker import RetentionTicker
from postroom.smtp.server import SmtpDrain, SmtpOptions, start_smtp
from postroom.spam.rspamd import NoSpamClassifier, RspamdClassifier
from postroom.storage.blobs.factory import blob_store_from_url
from postroom.storage.engine import create_database_engine
from postroom.storage.migrate import upgrade
from postroom.storage.notify import listen_for_outbox
from postroom.storage.rate_limits import PostgresRateLimits, RedisRateLimits
from postroom.storage.uow import SqlUnitOfWorkFactory


class _GracefulServer(uvicorn.Server):
    """Uvicorn re-raises SIGTERM/SIGINT once it has stopped, which kills the process before the SMTP server and
    the workers drain; this server only records the signal, and tells ``on_signal`` so the drain starts at once."""

    def __init__(self, config: uvicorn.Config, on_signal: Callable[[], object]) -> None:
        super().__init__(config)
        self._on_signal = on_signal

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_signal()
        super().handle_exit(sig, frame)


class RoleStatus:
    """Each role's readiness in this process, for /readyz: a role is ready once running and until draining."""

    def __init__(self, roles: frozenset[str]) -> None:
        self.roles = roles
        self.draining = False
        self._checks: dict[str, Callable[[], dict[str, object]]] = {}

    def watch(self, role: str, check: Callable[[], dict[str, object]]) -> None:
        self._checks[role] = check

    def report(self) -> dict[str, dict[str, object]]:
        report: dict[str, dict[str, object]] = {}
        for role in ROLES:
            if role not in self.roles:
                continue
            check = self._checks.get(role)
            detail: dict[str, object] = check() if check else {"ready": False, "detail": "starting"}
            if self.draining:
                detail = {**detail, "ready": False, "detail": "draining"}
            report[role] = detail
        return report


def _alive(*tasks: asyncio.Task[None]) -> Callable[[], dict[str, object]]:
    def check() -> dict[str, object]:
        stopped = [task.get_name() for task in tasks if task.done()]
        return {"ready": not stopped, **({"detail": f"stopped: {', '.join(stopped)}"} if stopped else {})}

    return check


class _QuietServer(uvicorn.Server):
    """A listener beside the API (the metrics one): it leaves the signals to the API server and stops with it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WorkerWakeups:
    """The ``Wakeups`` port: passes a service's after-commit wake-ups to the workers running in this process.

    Workers attach themselves when they start; with none running (CLI, tests) a wake-up is simply dropped. Other
    processes learn of new outbox rows through PostgreSQL NOTIFY, and every worker polls as a safety net.
    """

    def __init__(self) -> None:
        self.dispatcher: Dispatcher | None = None
        self.delivery: DeliveryWorker | None = None

    def outbox_committed(self, event_ids: list[str]) -> None:
        if self.dispatcher is not None:
            self.dispatcher.notify_threadsafe(event_ids)

    def jobs_queued(self) -> None:
        if self.delivery is not None:
            self.delivery.wake()


@dataclass(frozen=True)
class Health:
    factory: SqlUnitOfWorkFactory
    blobs: BlobStore
    spam: SpamClassifier

    def database_ready(self) -> bool:
        return self.factory.database_ready()

    def blobs_ready(self) -> bool:
        return self.blobs.ready()

    def spam_filter(self) -> dict[str, object]:
        return {"spam_filter": self.spam.description, "spam_filter_failures": self.spam.failures}


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    services: Services
    bootstrap: Bootstrap
    factory: SqlUnitOfWorkFactory
    hub: Hub
    signer: DkimSigner
    clock: Clock
    wakeups: WorkerWakeups
    resolver: DnsResolver
    rate_limits: RateLimits = field(default_factory=MemoryRateLimits)

    def roles(self) -> frozenset[str]:
        """POSTROOM_ROLES, less the dispatcher when the older POSTROOM_RUN_DISPATCHER is off."""
        roles = parse_roles(self.settings.roles)
        return roles if self.settings.run_dispatcher else roles - {"dispatcher"}

    def api(self, role_readiness: Callable[[], dict[str, dict[str, object]]] | None = None) -> FastAPI:
        app = create_app(
            self.services,
            event_stream=self.hub,
            websocket_key_recheck_seconds=self.settings.websocket_key_recheck_seconds,
            rate_limit_per_second=self.settings.rate_limit_per_second,
            rate_limit_burst=self.settings.rate_limit_burst,
            max_request_bytes=self.settings.max_request_bytes,
            access_log=self.settings.access_log,
            clock=self.clock,
            auth_failures_per_minute=self.settings.auth_failures_per_minute,
            auth_failure_burst=self.settings.auth_failure_burst,
            rate_limits=self.rate_limits,
            role_readiness=role_readiness,
            point_reads_on_event_loop=self.engine.dialect.name == "sqlite",
        )
        access = self.services.access
        mount_mcp(app, authenticate=principal_of, events=self.hub, api_host=self.settings.api_host)
        if self.settings.prometheus_port is None:
            token, loopback = self.settings.prometheus_token, is_loopback(self.settings.api_host)
            mount_prometheus(app, self.exposition(), token=token, open_without_token=loopback)
        secret = access.server_secret(CONSOLE_SECRET_NAME)
        mount_console(app, authenticate=access.authenticate, events=self.hub, secret=secret)
        return app

    def smtp_options(self) -> SmtpOptions:
        s = self.settings
        return SmtpOptions(
            host=s.smtp_host,
            port=s.smtp_port,
            hostname=s.smtp_hostname,
            max_message_bytes=s.smtp_max_message_bytes,
            max_recipients=s.smtp_max_recipients,
            idle_timeout_seconds=s.smtp_idle_timeout_seconds,
            max_session_seconds=s.smtp_max_session_seconds,
            max_line_bytes=s.smtp_max_line_bytes,
            store_budget_bytes=s.smtp_delivery_budget_bytes,
            tls_cert=s.smtp_tls_cert,
            tls_key=s.smtp_tls_key,
            trusted_relays=parse_networks(s.smtp_trusted_relays),
            proxy_protocol=s.smtp_proxy_protocol,
        )

    def delivery_worker(self) -> DeliveryWorker:
        s = self.settings
        routes = Routes(
            overrides=parse_mx_overrides(s.mx_overrides),
            relay=parse_relay_url(s.relay_url),
            resolver=self.resolver,
            helo_name=outbound_helo_name(s),
            mx_port=s.mx_port,
            timeout_seconds=s.delivery_timeout_seconds,
        )
        return DeliveryWorker(
            self.services.outbound,
            routes,
            concurrency=s.delivery_concurrency,
            poll_seconds=s.delivery_poll_seconds,
            attempt_seconds=s.delivery_lease_seconds * 0.9,
        )

    def draft_ticker(self) -> ScheduledDraftTicker:
        return ScheduledDraftTicker(self.services.drafts, self.settings.scheduled_draft_poll_seconds)

    def domain_checker(self) -> DomainCheckTicker:
        return DomainCheckTicker(self.services.domain_checks, self.settings.domain_check_poll_seconds)

    def retention_ticker(self) -> RetentionTicker:
        return RetentionTicker(self.services.retention, self.settings.retention_poll_seconds)

    def dispatcher(self, deliver_webhooks: bool = True) -> Dispatcher:
        s = self.settings
        sender = WebhookSender(
            HostAddresses(self.resolver), s.webhook_timeout_seconds, s.allow_private_urls, self.clock
        )
        return Dispatcher(
            self.services.dispatch,
            self.hub,
            sender,
            poll_seconds=s.dispatch_poll_seconds,
            concurrency=s.webhook_concurrency,
            clock=self.clock,
            deliver_webhooks=deliver_webhooks,
        )

    def ensure_postmaster_inbox(self) -> None:
        """The inbox for postmaster@ and abuse@ every hosted domain: created on first start when missing."""
        address = self.services.receive.postmaster_inbox
        if not self.services.inboxes.ensure_operator_inbox(self.bootstrap.organization_id, address, "Postmaster"):
            logging.getLogger("postroom").warning(
                "POSTROOM_POSTMASTER_INBOX %s is not an inbox and cannot be created here: mail to postmaster@ and "
                "abuse@ is refused until it exists",
                address,
            )

    async def serve(self, stop: asyncio.Event | None = None, roles: frozenset[str] | None = None) -> None:
        """Run this process's roles (default: POSTROOM_ROLES) until told to stop, then drain.

        Told to stop means SIGINT/SIGTERM, or ``stop`` being set (for an embedding program or a test). Draining:
        SMTP answers 421 to new sessions and lets messages in DATA finish, the HTTP server finishes requests in
        flight, the delivery worker hands back jobs it has not started, all within POSTROOM_DRAIN_SECONDS.
        """
        roles = self.roles() if roles is None else roles
        status = RoleStatus(roles)
        if "worker" in roles or "api" in roles:
            await asyncio.to_thread(self.signer.key, self.settings.default_domain.strip().lower())  # made on 1st start
        await asyncio.to_thread(self.ensure_postmaster_inbox)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per webhook POST is noise
        tasks: list[asyncio.Task[None]] = []
        dispatcher: Dispatcher | None = None
        if "dispatcher" in roles or "api" in roles:
            # Websocket clients connect to API nodes: those publish every committed event they hear of, and only
            # the dispatcher role also claims outbox rows for webhooks.
            dispatcher = self.dispatcher(deliver_webhooks="dispatcher" in roles)
            self.wakeups.dispatcher = dispatcher
            tasks.append(asyncio.create_task(dispatcher.run(), name="events-dispatcher"))
            if self.engine.dialect.name == "postgresql":
                url = self.settings.resolved_database_url()
                tasks.append(asyncio.create_task(listen_for_outbox(url, dispatcher.notify), name="outbox-listen"))
            if "dispatcher" in roles:
                status.watch("dispatcher", _alive(*tasks))
        try:
            await self._serve_transports(stop, roles, status)
        finally:
            self.wakeups.dispatcher = None
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if dispatcher is not None:
                await dispatcher.stop()

    async def _serve_transports(self, stop: asyncio.Event | None, roles: frozenset[str], status: RoleStatus) -> None:
        drain_seconds = self.settings.drain_seconds
        smtp_drain = SmtpDrain()
        # The delivery worker first: a bad route or EHLO name stops serve before it listens.
        delivery_worker = self.delivery_worker() if "worker" in roles else None
        smtp = await start_smtp(self.services.receive, self.smtp_options(), smtp_drain) if "smtp" in roles else None
        if smtp is not None:
            where = f"{self.settings.smtp_host}:{self.settings.smtp_port}"
            status.watch("smtp", lambda: {"ready": smtp.is_serving(), "listening": where})
        workers: list[asyncio.Task[None]] = []
        if delivery_worker is not None:
            self.wakeups.delivery = delivery_worker
            workers = [
                asyncio.create_task(delivery_worker.run(), name="delivery-worker"),
                asyncio.create_task(self.draft_ticker().run(), name="scheduled-drafts"),
                asyncio.create_task(self.domain_checker().run(), name="domain-checks"),
                asyncio.create_task(self.retention_ticker().run(), name="retention"),
            ]
            status.watch("worker", _alive(*workers))
        if "api" in roles:
            status.watch("api", lambda: {"ready": True})
        app = self.api(status.report) if "api" in roles else create_health_app(self.services, status.report)
        config = uvicorn.Config(
            app,
            host=self.settings.api_host,
            port=self.settings.api_port,
            access_log=False,
            log_level=self.settings.log_level.lower(),
            server_header=False,
            timeout_graceful_shutdown=max(1, round(drain_seconds)),
            http=JsonErrorHttpToolsProtocol,
        )
        redaction.install(self.settings.secret_values())  # uvicorn.Config has just added its log handlers
        loop = asyncio.get_running_loop()

        def begin_drain() -> None:
            status.draining = True
            smtp_drain.begin()
            if delivery_worker is not None:
                delivery_worker.drain()

        watchers: list[asyncio.Task[None]] = []
        try:
            server = _GracefulServer(config, partial(loop.call_soon_threadsafe, begin_drain))
            if stop is not None:
                watchers.append(asyncio.create_task(_exit_when(stop, server, begin_drain), name="stop-watch"))
            if (metrics_server := self._metrics_server()) is not None:
                watchers.append(asyncio.create_task(metrics_server.serve(), name="metrics-listener"))
            await server.serve()
        finally:
            begin_drain()
            self.wakeups.delivery = None
            finishing = [smtp_drain.finish(drain_seconds)] if smtp is not None else []
            if delivery_worker is not None:
                finishing.append(delivery_worker.stop(drain_seconds))
            await asyncio.gather(*finishing)
            if smtp is not None:
                smtp.close()
            for task in [*workers, *watchers]:
                task.cancel()
            for task in [*workers, *watchers]:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if smtp is not None:
                await smtp.wait_closed()

    def _metrics_server(self) -> uvicorn.Server | None:
        """The separate /metrics listener when POSTROOM_PROMETHEUS_PORT is set."""
        s = self.settings
        if s.prometheus_port is None:
            return None
        app = metrics_app(self.exposition(), token=s.prometheus_token)
        config = uvicorn.Config(
            app, host=s.prometheus_host, port=s.prometheus_port, access_log=False, log_level="warning"
        )
        return _QuietServer(config)

    def exposition(self) -> Exposition:
        return Exposition(BacklogReader(self.factory, self.clock))

    def close(self) -> None:
        self.engine.dispose()
        process_exited(os.getpid())


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


async def _exit_when(stop: asyncio.Event, server: uvicorn.Server, begin_drain: Callable[[], None]) -> None:
    await stop.wait()
    begin_drain()
    server.should_exit = True


def mail_host(settings: Settings) -> str:
    """The host the MX record names: configured, else the SMTP greeting name unless that is just localhost."""
    if settings.mail_host:
        return settings.mail_host
    if settings.smtp_hostname not in ("localhost", "localhost.localdomain"):
        return settings.smtp_hostname
    return f"mail.{settings.default_domain.strip().lower()}"


def outbound_helo_name(settings: Settings) -> str:
    """The EHLO name of outbound SMTP: the mail host, which must be fully qualified unless explicitly allowed."""
    name = mail_host(settings)
    if not is_fully_qualified(name) and not settings.allow_non_fqdn_helo:
        raise ValueError(
            f"the outbound EHLO name {name!r} (mail_host) is not a fully-qualified domain name, which receivers "
            "refuse (Postfix: reject_non_fqdn_helo_hostname); set POSTROOM_MAIL_HOST, or "
            "POSTROOM_ALLOW_NON_FQDN_HELO=true to send with it anyway"
        )
    return name


def build(settings: Settings, *, migrate: bool = True, clock: Clock | None = None) -> Runtime:
    """Open the database (migrating it to the current schema), bootstrap it once, and wire the services.

    ``clock`` is where every service and worker reads the time (the system clock unless a test passes its own).
    """
    clock = clock or SystemClock()
    wakeups = WorkerWakeups()
    engine = create_database_engine(settings.resolved_database_url())
    watch_pool(engine)
    if migrate:
        upgrade(engine)
    factory = SqlUnitOfWorkFactory(engine, settings.search_timeout_seconds)
    access = AccessService(factory, clock, settings.api_key_cache_seconds)
    bootstrap = access.bootstrap()
    tokens = PageTokens(access.server_secret(PAGE_TOKEN_SECRET_NAME))
    default_domain = settings.default_domain.strip().lower()
    blobs = blob_store_from_url(settings.blob_url, settings.data_dir, **settings.s3_options())
    return_paths = ReturnPaths(access.server_secret(RETURN_PATH_SECRET_NAME), default_domain)
    dns_servers = parse_dns_servers(settings.dns_servers)
    resolver = DnsResolver(dns_servers)
    spam = spam_classifier(settings)
    # Received mail's checks reuse answers for their TTL; domain verification and delivery always read DNS afresh.
    answers = AnswerCache(lambda: clock.now().timestamp(), settings.dns_cache_max_seconds)
    authenticator = InboundAuthenticator(
        DnsResolver(dns_servers, cache=answers),
        authserv_id=settings.smtp_hostname,
        trusted_sealers=frozenset(
            name.strip().lower() for name in (settings.arc_trusted_sealers or "").split(",") if name.strip()
        ),
    )
    screening = Screening(authenticator, spam, parse_networks(settings.smtp_trusted_relays))
    hosted = HostedDomains(default_domain)
    postmaster = (settings.postmaster_inbox or f"postmaster@{default_domain}").strip().lower()
    # SQLite has one writer: one filing transaction at a time. PostgreSQL works on a few at once (each batch's search
    # vectors and WAL flush), so a few run concurrently.
    concurrent_commits = 1 if engine.dialect.name == "sqlite" else 2
    receive = ReceiveService(
        factory, blobs, default_domain, return_paths, screening, clock, wakeups, hosted, postmaster, concurrent_commits
    )
    selector = settings.dkim_selector

    def default_domain_key() -> DkimKey:
        secret_name = f"dkim:{default_domain}:{selector}"
        pem = access.server_secret(secret_name, lambda: generate_key(default_domain, selector).private_pem)
        return DkimKey(default_domain, selector, pem)

    signer = DkimSigner({default_domain: default_domain_key})

    def dkim_txt() -> str:
        return signer.public_txt(default_domain) or ""

    send = SendService(
        factory,
        blobs,
        signer,
        HttpAttachmentFetcher(
            HostAddresses(resolver),
            allow_private=settings.allow_private_urls,
            timeout_seconds=settings.attachment_fetch_timeout_seconds,
        ),
        OutboundSettings(
            return_paths=return_paths,
            retry_window=timedelta(seconds=settings.delivery_retry_window_seconds),
            max_fetch_bytes=settings.attachment_fetch_max_bytes,
        ),
        clock,
        wakeups,
        hosted,
    )
    catalogue = DomainCatalogue(DefaultDomain(default_domain, dkim_txt), mail_host(settings), selector)
    verifier = DomainVerifier(factory, catalogue, resolver, clock, wakeups)
    policy = DispatchPolicy(
        lease=timedelta(seconds=settings.dispatch_lease_seconds),
        retry_schedule=settings.retry_schedule(),
        disable_after=timedelta(seconds=settings.webhook_disable_after_seconds),
    )
    services = Services(
        access=access,
        inboxes=InboxService(factory, tokens, hosted, blobs, clock),
        pods=PodService(factory, tokens, clock),
        api_keys=ApiKeyService(factory, tokens, clock),
        receive=receive,
        mail=MailService(factory, tokens, blobs, DownloadSigner(access.server_secret(DOWNLOAD_SECRET_NAME)), clock),
        search=SearchService(factory, tokens),
        webhooks=WebhookService(factory, tokens, HostAddresses(resolver), settings.allow_private_urls, clock),
        inbox_events=InboxEventService(factory, tokens),
        dispatch=DispatchService(factory, policy, clock, catalogue),
        health=Health(factory, blobs, spam),
        lists=ListService(factory, tokens, clock),
        metrics=MetricsService(factory, clock),
        send=send,
        outbound=OutboundService(
            factory,
            blobs,
            receive,
            RetryPolicy(
                base_seconds=settings.delivery_retry_base_seconds,
                max_seconds=settings.delivery_retry_max_seconds,
                window_seconds=settings.delivery_retry_window_seconds,
            ),
            timedelta(seconds=settings.delivery_lease_seconds),
            hosted,
            clock,
            wakeups,
        ),
        domains=DomainService(factory, tokens, catalogue, verifier, resolver, DkimKeyMaker(), clock, wakeups),
        domain_checks=verifier,
        drafts=DraftService(
            factory, tokens, blobs, send, DownloadSigner(access.server_secret(DOWNLOAD_SECRET_NAME)), clock
        ),
        retention=RetentionService(factory, blobs, retention_policy(settings), clock),
    )
    hub = Hub(settings.websocket_queue_size)
    limits = rate_limits(settings, engine, clock)
    return Runtime(settings, engine, services, bootstrap, factory, hub, signer, clock, wakeups, resolver, limits)


def rate_limits(settings: Settings, engine: Engine, clock: Clock | None = None) -> RateLimits:
    """Redis when configured, else PostgreSQL (shared by every process), else this process's memory (SQLite),
    which runs on ``clock`` when one other than the system clock is given (tests move it by hand)."""
    if settings.redis_url:
        return RedisRateLimits(settings.redis_url)
    if engine.dialect.name == "postgresql":
        return PostgresRateLimits(engine)
    if clock is None or isinstance(clock, SystemClock):
        return MemoryRateLimits()
    return MemoryRateLimits(seconds=lambda: clock.now().timestamp())


def retention_policy(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(
        dispatched_events=keep_days(settings.retention_events_days),
        delivered_webhooks=keep_days(settings.retention_webhook_deliveries_days),
        dead_letters=keep_days(settings.retention_dead_letters_days),
        delivery_results=keep_days(settings.retention_delivery_results_days),
        trash=keep_days(settings.retention_trash_days),
        minute_metrics=keep_days(settings.retention_minute_metrics_days),
        batch_size=settings.retention_batch_size,
    )


def spam_classifier(settings: Settings) -> SpamClassifier:
    if not settings.rspamd_url:
        return NoSpamClassifier()
    return RspamdClassifier(settings.rspamd_url, settings.rspamd_password, settings.rspamd_timeout_seconds)
