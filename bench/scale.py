"""One inbox holding a million messages: list, deep page, label filter, search and thread latency (p50/p99).

A message is stored through the real receive path once; its rows (message, labels, thread, thread keys, search
index) are the template for every bulk-loaded message, which differs in ids, time, sender, subject and body words.
PostgreSQL loads with COPY, SQLite with executemany in one transaction. Every call then goes through the HTTP API
in-process (authentication, JSON and all). Prints figures only, never asserts timings.

Run from the repository root: ``.venv/bin/python bench/scale.py [--messages N] [--sqlite-messages N] [--only pg]``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import importlib.util
import json
import logging
import math
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.databases import POSTGRES_ADMIN_DSN, POSTGRES_URL_BASE, postgres_database  # noqa: E402

from postroom.config import Settings  # noqa: E402
from postroom.domain.ids import id_at  # noqa: E402
from postroom.domain.labels import HIDDEN  # noqa: E402
from postroom.domain.pagination import PageRequest  # noqa: E402
from postroom.domain.search import MailSearch, index_document  # noqa: E402
from postroom.errors import ServiceUnavailable  # noqa: E402
from postroom.runtime import Runtime, build  # noqa: E402
from postroom.services.mail.receive import FromInbox, InboundMessage  # noqa: E402
from postroom.storage.bounded import bounded  # noqa: E402
from postroom.storage.mail_search import message_search_page  # noqa: E402
from postroom.storage.tables import message_labels, messages, thread_keys, threads  # noqa: E402

GOAL_P99_MS = 50.0
KEPT = "postroom_scale"
KEPT_STATE = Path(tempfile.gettempdir()) / "postroom-scale.json"  # the kept database's API key and inbox
REUSE_URL = ""  # set by --reuse: measure the kept database again without loading it
BIG_THREAD = 20  # messages in each of the first threads, for "get thread with 20 messages"
BIG_THREADS = 100
RARE_WORD = "zanzibar"  # in RARE_HITS messages
RARE_HITS = 10
COMMON_WORD = "hello"  # in 99 % of messages
STARRED_EVERY = 100  # one message in this many carries the user label "starred"
VOCABULARY = [f"w{n:04d}x" for n in range(5000)]
SENDERS = 10_000
BASE = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Template:
    message: dict[str, Any]
    labels: list[str]
    thread: dict[str, Any]


def _raw(inbox_id: str) -> bytes:
    lines = [
        "From: Alice Sender <alice@example.org>",
        f"To: {inbox_id}",
        "Subject: Template",
        "Message-ID: <template@example.org>",
        "Date: Wed, 01 Jan 2025 00:00:00 +0000",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    return ("\r\n".join(lines) + "\r\n\r\nTemplate body.\r\n").encode()


def _template(runtime: Runtime, inbox_id: str) -> Template:
    inbound = InboundMessage(_raw(inbox_id), None, [inbox_id], FromInbox("colleague@postroom.localhost"))
    (row_id,) = runtime.services.receive.store(inbound)
    with runtime.engine.connect() as connection:
        message = dict(connection.execute(select(messages).where(messages.c.row_id == row_id)).mappings().one())
        labels = list(
            connection.execute(select(message_labels.c.label).where(message_labels.c.row_id == row_id)).scalars()
        )
        thread_row = select(threads).where(threads.c.thread_id == message["thread_id"])
        thread = dict(connection.execute(thread_row).mappings().one())
    return Template(message, labels, thread)


def _body(rng: random.Random, index: int, rare: set[int]) -> str:
    words = rng.choices(VOCABULARY, k=60)
    if index % 100:
        words[0] = COMMON_WORD
    if index in rare:
        words[30] = RARE_WORD
    lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
    return "\n".join(lines) + "\n"


def _rows(template: Template, count: int, seed: int = 7) -> Iterator[tuple[dict[str, Any], list[str], str]]:
    """(message row, its labels, its search document), oldest first; threads are summarised separately."""
    rng = random.Random(seed)
    rare = set(rng.sample(range(count), RARE_HITS))
    big = BIG_THREADS * BIG_THREAD
    others = max(1, count // 5 - BIG_THREADS)
    base = template.message
    for index in range(count):
        thread = index // BIG_THREAD if index < big else BIG_THREADS + (index - big) % others
        at = BASE + timedelta(seconds=index)
        sender_number = rng.randrange(SENDERS)
        sender = f"Sender {sender_number} <user{sender_number}@example{sender_number % 100}.org>"
        subject = f"Topic {thread} " + " ".join(rng.choices(VOCABULARY, k=4))
        text_body = _body(rng, index, rare)
        message_id = f"<m{index}.{thread}@example.org>"
        replaced = {"message-id": message_id, "subject": subject, "from": sender}
        headers = {name: replaced.get(name.lower(), value) for name, value in base["headers"].items()}
        labels = [*template.labels, *(["starred"] if index % STARRED_EVERY == 0 else [])]
        row = {
            **base,
            "row_id": id_at("msg", int(at.timestamp() * 1000)),
            "thread_id": f"thd_scale{thread:08d}",
            "message_id": message_id,
            "labels": labels,
            "timestamp": at,
            "from_": sender,
            "subject": subject,
            "preview": text_body[:200],
            "text": text_body,
            "extracted_text": text_body,
            "headers": headers,
            "size": base["size"] - len("Template body.") + len(text_body),
            "raw_blob_key": f"scale/{index}",
            "created_at": at,
            "updated_at": at,
        }
        recipients = " ".join([*row["to"], *row["cc"], *row["bcc"]])
        yield row, labels, index_document(subject, sender, recipients, text_body)


def _thread_rows(template: Template, rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**template.thread, **summary} for summary in rows.values()]


def _summarise(summaries: dict[str, dict[str, Any]], row: dict[str, Any]) -> None:
    summary = summaries.get(row["thread_id"])
    if summary is None:
        summaries[row["thread_id"]] = {
            "thread_id": row["thread_id"],
            "subject": row["subject"],
            "created_at": row["timestamp"],
            "message_count": 0,
            "size": 0,
            "senders": [],
        }
        summary = summaries[row["thread_id"]]
    summary.update(
        timestamp=row["timestamp"],
        received_timestamp=row["timestamp"],
        updated_at=row["timestamp"],
        preview=row["preview"],
        last_message_id=row["message_id"],
        labels=row["labels"],
    )
    summary["message_count"] += 1
    summary["size"] += row["size"]
    if row["from_"] not in summary["senders"] and len(summary["senders"]) < 20:
        summary["senders"].append(row["from_"])


def _copy_value(value: Any, is_json: bool) -> Any:
    return json.dumps(value, ensure_ascii=False) if is_json else value


def load_postgres(engine: Engine, template: Template, count: int) -> None:
    """COPY on four connections at once (one COPY each), foreign keys checked by nobody (replica role)."""
    message_columns = [column.name for column in messages.c]
    thread_columns = [column.name for column in threads.c]
    json_message = [c.type.__class__.__name__ == "JSON" for c in messages.c]
    json_thread = [c.type.__class__.__name__ == "JSON" for c in threads.c]
    raws = [engine.raw_connection() for _ in range(4)]
    try:
        drivers: list[Any] = [raw.driver_connection for raw in raws]
        cursors = [driver.cursor() for driver in drivers]
        for cursor in cursors:
            cursor.execute("SET session_replication_role = replica")
        main = cursors[0]
        loaded = ["messages", "threads", "message_labels", "thread_keys", "message_search"]
        main.execute(
            "SELECT indexdef, indexname FROM pg_indexes WHERE tablename = ANY(%s)"
            " AND indexname NOT LIKE 'pk_%%' AND indexname NOT LIKE 'uq_%%'",
            (loaded,),
        )
        indexes = main.fetchall()
        for _definition, name in indexes:
            main.execute(f"DROP INDEX {name}")
        main.execute("CREATE UNLOGGED TABLE scale_documents (row_id varchar(64), document text)")
        drivers[0].commit()
        summaries: dict[str, dict[str, Any]] = {}
        quoted = ", ".join(f'"{name}"' for name in message_columns)
        with (
            cursors[0].copy(f"COPY messages ({quoted}) FROM STDIN") as copy_messages,
            cursors[1].copy("COPY message_labels (row_id, label) FROM STDIN") as copy_labels,
            cursors[2].copy("COPY scale_documents (row_id, document) FROM STDIN") as copy_documents,
            cursors[3].copy("COPY thread_keys (inbox_id, message_id, thread_id) FROM STDIN") as copy_keys,
        ):
            for row, labels, document in _rows(template, count):
                values = [row[c] for c in message_columns]
                copy_messages.write_row([_copy_value(v, j) for v, j in zip(values, json_message, strict=True)])
                for label in labels:
                    copy_labels.write_row([row["row_id"], label])
                copy_documents.write_row([row["row_id"], document])
                copy_keys.write_row([row["inbox_id"], row["message_id"], row["thread_id"]])
                _summarise(summaries, row)
        for driver in drivers:
            driver.commit()
        with main.copy(f"COPY threads ({', '.join(thread_columns)}) FROM STDIN") as copy_threads:
            for thread in _thread_rows(template, summaries):
                values = [thread[c] for c in thread_columns]
                copy_threads.write_row([_copy_value(v, j) for v, j in zip(values, json_thread, strict=True)])
        main.execute(
            "INSERT INTO message_search (row_id, document) SELECT row_id, to_tsvector('simple', document)"
            " FROM scale_documents"
        )
        main.execute("DROP TABLE scale_documents")
        main.execute("SET maintenance_work_mem = '256MB'")
        for definition, _name in indexes:
            main.execute(definition)
        drivers[0].commit()
        drivers[0].autocommit = True
        main.execute("VACUUM ANALYZE")
    finally:
        for raw in raws:
            raw.close()


def load_sqlite(engine: Engine, template: Template, count: int) -> None:
    """executemany in one transaction; foreign keys checked at commit, so threads can follow their messages."""
    summaries: dict[str, dict[str, Any]] = {}
    batch: list[tuple[dict[str, Any], list[str], str]] = []
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")

        def flush() -> None:
            connection.execute(insert(messages), [row for row, _labels, _document in batch])
            label_rows = [{"row_id": row["row_id"], "label": label} for row, labels, _ in batch for label in labels]
            connection.execute(insert(message_labels), label_rows)
            keys = [
                {"inbox_id": row["inbox_id"], "message_id": row["message_id"], "thread_id": row["thread_id"]}
                for row, _labels, _document in batch
            ]
            connection.execute(insert(thread_keys), keys)
            connection.exec_driver_sql(
                "INSERT INTO message_search_docs (row_id) VALUES (?)", [(row["row_id"],) for row, _, _ in batch]
            )
            connection.exec_driver_sql(
                "INSERT INTO message_search (rowid, document) SELECT d.doc_id, ? FROM message_search_docs AS d"
                " WHERE d.row_id = ?",
                [(document, row["row_id"]) for row, _, document in batch],
            )
            connection.exec_driver_sql(
                "INSERT INTO message_fields (rowid, subject, sender, recipients)"
                ' SELECT d.doc_id, m.subject, m.from_, m."to" || char(10) || m.cc || char(10) || m.bcc'
                " FROM message_search_docs AS d JOIN messages AS m ON m.row_id = d.row_id WHERE d.row_id = ?",
                [(row["row_id"],) for row, _, _ in batch],
            )
            batch.clear()

        for item in _rows(template, count):
            _summarise(summaries, item[0])
            batch.append(item)
            if len(batch) == 5000:
                flush()
        if batch:
            flush()
        connection.execute(insert(threads), _thread_rows(template, summaries))
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(client: TestClient, label: str, path: str, params: dict[str, Any], calls: int) -> tuple[str, float, float]:
    timings: list[float] = []
    for attempt in range(calls + 3):
        started = time.perf_counter()
        response = client.get(path, params=params)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            return label, float("nan"), float("nan")
        if attempt >= 3:  # the first calls warm caches and compiled statements
            timings.append(elapsed * 1000)
    return label, statistics.median(timings), _percentile(timings, 0.99)


def _page_token(client: TestClient, path: str, pages: int) -> str:
    token = None
    for _ in range(pages - 1):
        params: dict[str, Any] = {"limit": 50, **({"page_token": token} if token else {})}
        token = client.get(path, params=params).json()["next_page_token"]
    assert token is not None
    return str(token)


def _database_size(runtime: Runtime, url: str) -> int:
    if url.startswith("sqlite"):
        path = Path(runtime.engine.url.database or "")
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with runtime.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


def _baseline_module(ref: str) -> Any:
    """``storage/mail_search.py`` as it was at git ``ref``, importable beside today's (it uses the same tables)."""
    source = subprocess.run(
        ["git", "show", f"{ref}:src/postroom/storage/mail_search.py"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    spec = importlib.util.spec_from_loader("baseline_mail_search", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, f"{ref}:mail_search.py", "exec"), module.__dict__)
    return module


def baseline(runtime: Runtime, inbox_id: str, ref: str, calls: int, timeout_seconds: float) -> list[str]:
    """The search statements of ``ref`` and of today, side by side on the same rows (database time only)."""
    dialect = runtime.engine.dialect.name
    old = _baseline_module(ref)
    lines = [f"  search statement only, {ref} vs this tree ({calls} calls; stopped at {timeout_seconds:g} s):"]
    for label, q in (("rare word", RARE_WORD), ("common word", COMMON_WORD), ("sender substring", "user4711@")):
        search = MailSearch.of(q, None, None, frozenset(HIDDEN))
        figures = []
        for module in (old, sys.modules["postroom.storage.mail_search"]):
            statement = module.message_search_page(dialect, inbox_id, search, PageRequest(50, None, False))
            timings: list[float] = []
            for _ in range(calls):
                with runtime.engine.connect() as connection:
                    started = time.perf_counter()
                    try:
                        with bounded(connection, timeout_seconds, "search"):
                            if module is not old and dialect == "postgresql":  # as SqlMailRepository does
                                connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
                            connection.execute(statement).fetchall()
                    except ServiceUnavailable:
                        timings.append(math.inf)
                        break
                    timings.append((time.perf_counter() - started) * 1000)
            figures.append(
                f"> {timeout_seconds * 1000:,.0f}" if math.isinf(max(timings)) else f"{statistics.median(timings):,.1f}"
            )
        lines.append(f"    messages search, {label:<17} before p50 {figures[0]:>9} ms   after p50 {figures[1]:>7} ms")
        print(lines[-1], flush=True)
    return lines


def _explain(runtime: Runtime, inbox_id: str) -> None:
    """The plans of the search statements, to see which index each branch starts from."""
    dialect = runtime.engine.dialect
    for q in (RARE_WORD, COMMON_WORD, "user4711@"):
        search = MailSearch.of(q, None, None, frozenset(HIDDEN))
        query = message_search_page(dialect.name, inbox_id, search, PageRequest(50, None, False))
        assert query is not None
        compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN ANALYZE " if dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
        with runtime.engine.connect() as connection:
            plan = connection.exec_driver_sql(prefix + str(compiled)).fetchall()
        print(f"--- {q}\n" + "\n".join(" | ".join(str(part) for part in row) for row in plan), flush=True)


def run(
    name: str, url: str, data_dir: Path, count: int, calls: int, explain: bool = False, base_ref: str = ""
) -> list[str]:
    settings = Settings(database_url=url, data_dir=data_dir, access_log=False, rate_limit_per_second=1e6)  # type: ignore[call-arg]
    runtime = build(settings)
    lines: list[str] = []
    kept = json.loads(KEPT_STATE.read_text()) if url == REUSE_URL else None
    try:
        key = kept["key"] if kept else runtime.bootstrap.api_key
        with TestClient(runtime.api(), raise_server_exceptions=False) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            if kept:
                inbox_id, count, load_seconds = kept["inbox_id"], kept["count"], kept["load_seconds"]
            else:
                inbox_id = client.post("/v0/inboxes", json={"username": "scale"}).json()["inbox_id"]
                template = _template(runtime, inbox_id)
                started = time.perf_counter()
                loader: Callable[[Engine, Template, int], None] = load_postgres if name == "postgresql" else load_sqlite
                loader(runtime.engine, template, count)
                load_seconds = time.perf_counter() - started
                if url.endswith(f"/{KEPT}"):
                    state = {"key": key, "inbox_id": inbox_id, "count": count, "load_seconds": load_seconds}
                    KEPT_STATE.write_text(json.dumps(state))
            size = _database_size(runtime, url)
            print(f"{name}: loaded in {load_seconds:.0f} s", flush=True)
            lines.append(
                f"{name}: {count:,} messages in {count // 5:,} threads loaded in {load_seconds:.0f} s;"
                f" database {size / 2**20:,.0f} MiB = {size / count / 1024:.1f} KiB per message"
            )
            base = f"/v0/inboxes/{inbox_id}"
            big_thread = "thd_scale00000000"
            deep = min(1000, count // 50 - 1)
            started = time.perf_counter()
            deep_token = _page_token(client, f"{base}/messages", deep)
            print(f"  walked {deep} pages in {time.perf_counter() - started:.0f} s", flush=True)
            cases = [
                ("reference: GET inbox (no mail read)", base, {}),
                ("first page of messages", f"{base}/messages", {"limit": 50}),
                ("first page of threads", f"{base}/threads", {"limit": 50}),
                (
                    f"page {deep:,} of messages (page_token)",
                    f"{base}/messages",
                    {"limit": 50, "page_token": deep_token},
                ),
                ("label filter: unread (all)", f"{base}/messages", {"limit": 50, "labels": "unread"}),
                ("label filter: starred (1 %)", f"{base}/messages", {"limit": 50, "labels": "starred"}),
                (f"search messages: rare word ({RARE_HITS} hits)", f"{base}/messages/search", {"q": RARE_WORD}),
                ("search messages: common word (99 %)", f"{base}/messages/search", {"q": COMMON_WORD}),
                ("search messages: sender substring", f"{base}/messages/search", {"q": "user4711@"}),
                ("search threads: rare word", f"{base}/threads/search", {"q": RARE_WORD}),
                ("search threads: common word", f"{base}/threads/search", {"q": COMMON_WORD}),
                (f"get thread with {BIG_THREAD} messages", f"{base}/threads/{big_thread}", {}),
            ]
            if explain:
                _explain(runtime, inbox_id)
            if base_ref:
                lines += baseline(runtime, inbox_id, base_ref, 5, 30.0 if name == "postgresql" else 60.0)
            if explain:
                profiled = cProfile.Profile()
                profiled.runcall(measure, client, "profile", f"{base}/messages/search", {"q": COMMON_WORD}, 5)
                pstats.Stats(profiled).sort_stats("cumulative").print_stats(30)
            for label, path, params in cases:
                label, p50, p99 = measure(client, label, path, params, calls)
                verdict = "ok" if p99 < GOAL_P99_MS else "over goal"
                lines.append(f"  {label:<42} p50 {p50:8.1f} ms   p99 {p99:8.1f} ms   {verdict}")
                print(lines[-1], flush=True)
    finally:
        runtime.close()
    return lines


@contextlib.contextmanager
def kept_database() -> Iterator[str]:
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{KEPT}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{KEPT}"')
    yield f"{POSTGRES_URL_BASE}/{KEPT}"


@contextlib.contextmanager
def sqlite_url() -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="postroom-scale-") as directory:
        yield f"sqlite:///{directory}/postroom.db", Path(directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages on PostgreSQL")
    parser.add_argument("--sqlite-messages", type=int, default=None, help="messages on SQLite (default: --messages)")
    parser.add_argument("--calls", type=int, default=50, help="measured calls per case")
    parser.add_argument("--explain", action="store_true", help="print the search statements' plans")
    parser.add_argument("--keep", action="store_true", help=f"load into database {KEPT} and leave it there")
    parser.add_argument("--reuse", action="store_true", help="measure the database kept by --keep again")
    parser.add_argument("--baseline", default="", help="git ref whose search statements to time beside today's")
    parser.add_argument("--only", choices=["postgresql", "sqlite"], default=None)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    report: list[str] = [f"goal: p99 < {GOAL_P99_MS:.0f} ms; {args.calls} calls per case, in-process HTTP API"]
    if args.reuse:
        global REUSE_URL
        REUSE_URL = f"{POSTGRES_URL_BASE}/{KEPT}"
        with tempfile.TemporaryDirectory(prefix="postroom-scale-") as directory:
            report += run("postgresql", REUSE_URL, Path(directory), 0, args.calls, args.explain, args.baseline)
    elif args.only in (None, "postgresql"):
        with (
            kept_database() if args.keep else postgres_database() as url,
            tempfile.TemporaryDirectory(prefix="postroom-scale-") as directory,
        ):
            report += run("postgresql", url, Path(directory), args.messages, args.calls, args.explain, args.baseline)
    if args.only in (None, "sqlite") and not args.reuse:
        with sqlite_url() as (url, directory):
            report += run(
                "sqlite", url, directory, args.sqlite_messages or args.messages, args.calls, args.explain, args.baseline
            )
    print("\n".join(report))


if __name__ == "__main__":
    main()
