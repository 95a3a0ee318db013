"""``postroom doctor`` against a test deployment on both databases, with the loopback DNS server publishing (or
not) the records of its default domain: all ok, a missing DKIM record, an unmigrated database, an expired
certificate, a port taken by something else."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from postroom.cli.main import app
from postroom.doctor.network import check_certificate
from postroom.doctor.report import Status
from postroom.doctor.storage import check_blobs
from postroom.domain.access import Principal
from postroom.domain.custom_domains import DomainStatus
from postroom.runtime import Runtime, build
from postroom.services.domains.domains import NewDomain
from postroom.storage.blobs.factory import s3_client
from tests.conftest import make_settings
from tests.support.databases import postgres_database
from tests.support.dns_server import DnsTestServer, dns_test_server
from tests.support.inprocess import serving
from tests.support.server import free_port

DOMAIN = "doctor-mail.example.com"
MAIL_HOST = "mx.doctor-mail.example.com"


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsTestServer]:
    with dns_test_server() as server:
        yield server


def make_certificate(directory: Path, not_after: datetime) -> tuple[Path, Path]:
    """A self-signed certificate valid until ``not_after`` (in the past for an expired one) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, MAIL_HOST)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - timedelta(days=365))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def deployment_env(database_url: str, data_dir: Path, dns: DnsTestServer, **extra: str) -> dict[str, str]:
    cert, key = make_certificate(data_dir, datetime.now(UTC) + timedelta(days=90))
    env = {
        "POSTROOM_DATABASE_URL": database_url,
        "POSTROOM_DATA_DIR": str(data_dir),
        "POSTROOM_DEFAULT_DOMAIN": DOMAIN,
        "POSTROOM_MAIL_HOST": MAIL_HOST,
        "POSTROOM_DNS_SERVERS": dns.address,
        "POSTROOM_API_PORT": str(free_port()),
        "POSTROOM_SMTP_PORT": str(free_port()),
        "POSTROOM_SMTP_TLS_CERT": str(cert),
        "POSTROOM_SMTP_TLS_KEY": str(key),
        "POSTROOM_BLOB_URL": "",
    }
    env.update(extra)
    return env


def set_up(runtime: Runtime, dns: DnsTestServer) -> Principal:
    """Make the default domain's DKIM key (as `postroom serve` does on first start) and publish its zone file."""
    runtime.signer.key(DOMAIN)
    assert runtime.bootstrap.api_key is not None
    caller = runtime.services.access.authenticate(f"Bearer {runtime.bootstrap.api_key}")
    dns.clear()
    dns.publish_zone(runtime.services.domains.zone_file(caller, DOMAIN), DOMAIN)
    return caller


def deployed(database_url: str, tmp_path: Path, dns: DnsTestServer) -> Runtime:
    settings = make_settings(
        database_url, tmp_path, default_domain=DOMAIN, mail_host=MAIL_HOST, dns_servers=dns.address
    )
    return build(settings, migrate=False)


@pytest.fixture
def deployment(database_url: str, tmp_path: Path, dns: DnsTestServer) -> dict[str, str]:
    """A migrated deployment whose default domain's records (its zone file) are published on the DNS server."""
    runtime = deployed(database_url, tmp_path, dns)
    try:
        set_up(runtime, dns)
    finally:
        runtime.close()
    return deployment_env(database_url, tmp_path, dns)


def doctor(env: dict[str, str]) -> tuple[int, dict[str, tuple[str, str]]]:
    """The exit code and each table row as name -> (status, detail)."""
    result = CliRunner().invoke(app, ["doctor"], env=env)
    rows: dict[str, tuple[str, str]] = {}
    for line in result.output.splitlines():
        cells = [cell.strip() for cell in re.split(r"[│┃]", line)[1:-1]]
        if len(cells) == 3 and cells[1] in ("ok", "warn", "fail"):
            rows[cells[0]] = (cells[1], cells[2])
    assert rows, result.output
    return result.exit_code, rows


def test_a_healthy_deployment_is_all_ok(deployment: dict[str, str]) -> None:
    code, rows = doctor(deployment)
    assert {name: status for name, (status, _) in rows.items() if status != "ok"} == {}
    assert code == 0
    assert {f"{DOMAIN} MX", f"{DOMAIN} SPF", f"{DOMAIN} DKIM", f"{DOMAIN} DMARC"} <= rows.keys()
    assert {"database", "migrations", "blob store", "DNS resolution", "API port", "SMTP port"} <= rows.keys()
    assert "days" in rows["TLS certificate"][1]


def test_a_missing_dkim_record_fails_with_a_clear_line(deployment: dict[str, str], dns: DnsTestServer) -> None:
    dns.remove(f"postroom._domainkey.{DOMAIN}")
    code, rows = doctor(deployment)
    assert code == 1
    status, detail = rows[f"{DOMAIN} DKIM"]
    assert status == "fail"
    assert detail.startswith(f"TXT postroom._domainkey.{DOMAIN} missing: publish 'v=DKIM1; k=rsa; p=")
    assert rows[f"{DOMAIN} MX"][0] == "ok"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_database_not_migrated_fails(backend: str, tmp_path: Path, dns: DnsTestServer) -> None:
    def check(url: str) -> None:
        code, rows = doctor(deployment_env(url, tmp_path, dns))
        assert code == 1
        assert rows["database"][0] == "ok"
        status, detail = rows["migrations"]
        assert status == "fail"
        assert re.fullmatch(r"not migrated, the newest migration is \w+: run `postroom migrate`", detail)
        assert rows[f"{DOMAIN} records"] == ("fail", "not checked: the database is not usable")

    if backend == "sqlite":
        fresh = tmp_path / "fresh.db"
        code, rows = doctor(deployment_env(f"sqlite:///{fresh}", tmp_path, dns))
        assert code == 1
        assert rows["database"][0] == "fail"
        assert f"no SQLite database at {fresh}" in rows["database"][1]
        assert not fresh.exists()  # the doctor does not create an empty database where none was
        fresh.touch()
        check(f"sqlite:///{fresh}")
    else:
        with postgres_database() as url:
            check(url)


def test_an_expired_certificate_fails(deployment: dict[str, str], tmp_path: Path) -> None:
    expired = tmp_path / "expired"
    expired.mkdir()
    cert, key = make_certificate(expired, datetime.now(UTC) - timedelta(days=2))
    code, rows = doctor({**deployment, "POSTROOM_SMTP_TLS_CERT": str(cert), "POSTROOM_SMTP_TLS_KEY": str(key)})
    assert code == 1
    status, detail = rows["TLS certificate"]
    assert status == "fail"
    assert "expired on" in detail


def test_a_certificate_expiring_within_21_days_warns(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    cert, key = make_certificate(tmp_path, now + timedelta(days=10, hours=1))
    settings = make_settings("sqlite://", tmp_path, smtp_tls_cert=cert, smtp_tls_key=key)
    check = check_certificate(settings, now)
    assert check.status is Status.WARN
    assert "expires in 10 days" in check.detail
    assert check_certificate(settings, now - timedelta(days=30)).status is Status.OK
    other = tmp_path / "other"
    other.mkdir()
    _, other_key = make_certificate(other, now + timedelta(days=90))
    mismatched = make_settings("sqlite://", tmp_path, smtp_tls_cert=cert, smtp_tls_key=other_key)
    assert check_certificate(mismatched, now).status is Status.FAIL


def test_a_port_held_by_something_else_fails(deployment: dict[str, str]) -> None:
    port = int(deployment["POSTROOM_SMTP_PORT"])
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()

        def answer_wrongly() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.sendall(b"SSH-2.0-OpenSSH\r\n")

        thread = threading.Thread(target=answer_wrongly, daemon=True)
        thread.start()
        code, rows = doctor(deployment)
        thread.join(5)
    assert code == 1
    assert rows["SMTP port"] == ("fail", f"127.0.0.1:{port} is in use by something that does not answer as SMTP")


def test_ports_served_by_postroom_are_ok(deployment: dict[str, str], database_url: str, tmp_path: Path) -> None:
    api_port, smtp_port = int(deployment["POSTROOM_API_PORT"]), int(deployment["POSTROOM_SMTP_PORT"])
    settings = make_settings(
        database_url, tmp_path, default_domain=DOMAIN, mail_host=MAIL_HOST, api_port=api_port, smtp_port=smtp_port
    )
    runtime = build(settings, migrate=False)
    try:
        with serving(runtime):
            code, rows = doctor(deployment)
    finally:
        runtime.close()
    assert code == 0
    assert rows["API port"] == ("ok", f"127.0.0.1:{api_port} is served: /healthz answers 200")
    assert rows["SMTP port"][0] == "ok"
    assert rows["SMTP port"][1].startswith(f"127.0.0.1:{smtp_port} is served: greets with '220 ")


def test_the_blob_check_round_trips_on_s3_and_fails_without_its_bucket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
        credentials = {"s3_endpoint_url": endpoint, "s3_region": "us-east-1"}
        keys = {"s3_access_key_id": "testing", "s3_secret_access_key": "testing"}
        s3_client(
            endpoint_url=endpoint, region="us-east-1", access_key_id="testing", secret_access_key="testing"
        ).create_bucket(Bucket="doctor")
        good = make_settings("sqlite://", tmp_path, blob_url="s3://doctor/blobs", **credentials, **keys)
        check = check_blobs(good)
        assert (check.status, check.detail) == (Status.OK, "s3://doctor/blobs: wrote, read back and deleted a blob")
        missing = make_settings("sqlite://", tmp_path, blob_url="s3://no-such-bucket", **credentials, **keys)
        check = check_blobs(missing)
        assert check.status is Status.FAIL
        assert check.detail.startswith("s3://no-such-bucket: ")
    finally:
        server.stop()


def test_custom_domains_warn_while_pending_and_fail_once_verified(
    database_url: str, tmp_path: Path, dns: DnsTestServer
) -> None:
    custom = "customer-mail.example.net"
    runtime = deployed(database_url, tmp_path, dns)
    deployment = deployment_env(database_url, tmp_path, dns)
    try:
        caller = set_up(runtime, dns)
        runtime.services.domains.create(caller, NewDomain(domain=custom))
        code, rows = doctor(deployment)
        assert code == 0  # its owner may not have published the records yet
        status, detail = rows[f"{custom} DKIM"]
        assert status == "warn"
        assert detail.startswith(f"TXT postroom._domainkey.{custom} missing: publish 'v=DKIM1;")

        dns.publish_zone(runtime.services.domains.zone_file(caller, custom), custom)
        assert runtime.services.domains.verify(caller, custom).domain.status is DomainStatus.VERIFIED
        code, rows = doctor(deployment)
        assert code == 0
        assert {name: row[0] for name, row in rows.items() if name.startswith(custom)} == {
            name: "ok" for name in rows if name.startswith(custom)
        }
        dns.remove(f"_dmarc.{custom}")
        code, rows = doctor(deployment)
        assert code == 1  # a verified domain lost a record: mail from it will now fail DMARC checks
        assert rows[f"{custom} DMARC"][0] == "fail"
    finally:
        runtime.close()
