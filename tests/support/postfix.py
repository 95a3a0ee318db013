"""Debian's Postfix as a peer MTA on loopback, with its own configuration directory, queue and log under /tmp.

Nothing of the system's Postfix is used but its programs: no /etc/postfix/main.cf, no port 25, no system queue.
It listens on one high 127.0.0.1 port with STARTTLS (a trustme certificate), refuses non-FQDN HELO names
(``reject_non_fqdn_helo_hostname``), delivers ``@postfix.test`` into mbox files, and relays the Postroom test domain
to Postroom's SMTP port over mandatory STARTTLS. Scripted recipients answer 450 or 550 at RCPT, and one is
accepted and then bounced by Postfix itself, so that Postfix sends a DSN to the envelope sender.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import trustme

from tests.support.server import free_port

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
DOMAIN = "postfix.test"
HOSTNAME = f"mx.{DOMAIN}"
MAILBOX = f"ann@{DOMAIN}"
TEMPORARY = f"busy@{DOMAIN}"  # 450 at RCPT
REFUSED = f"nobody@{DOMAIN}"  # 550 at RCPT
BOUNCED = f"gone@{DOMAIN}"  # accepted at RCPT, then bounced by Postfix: a DSN goes to the return path
INTERNATIONAL = f"zoë@{DOMAIN}"
SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def installed() -> bool:
    return os.path.exists(POSTFIX) and os.geteuid() == 0


@dataclass
class PostfixPeer:
    """One running Postfix; ``relay_domain`` mail goes to Postroom at 127.0.0.1:``relay_port``."""

    relay_domain: str
    relay_port: int
    ca: trustme.CA
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="postroom-postfix-")))

    @property
    def config_dir(self) -> Path:
        return self.root / "etc"

    @property
    def log_path(self) -> Path:
        return self.root / "maillog"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def mailbox(self, user: str = "ann") -> bytes:
        path = self.root / "mail" / user
        return path.read_bytes() if path.exists() else b""

    def _main_cf(self) -> str:
        nobody = pwd.getpwnam("nobody")
        inline_mailboxes = ", ".join(
            f"{address}={address.split('@')[0]}" for address in (MAILBOX, TEMPORARY, REFUSED, BOUNCED, INTERNATIONAL)
        )
        certificate = self.ca.issue_cert(HOSTNAME)
        cert_path, key_path, ca_path = self.root / "cert.pem", self.root / "key.pem", self.root / "ca.pem"
        certificate.private_key_pem.write_to_path(str(key_path))
        certificate.cert_chain_pems[0].write_to_path(str(cert_path))
        self.ca.cert_pem.write_to_path(str(ca_path))
        settings = {
            "compatibility_level": "3.6",
            "maillog_file": str(self.log_path),
            "maillog_file_prefixes": str(self.root),  # only /var and /dev/stdout by default
            "queue_directory": str(self.root / "queue"),
            "data_directory": str(self.root / "data"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": HOSTNAME,
            "mydomain": DOMAIN,
            "myorigin": DOMAIN,
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtp_dns_support_level": "disabled",
            "smtpd_peername_lookup": "no",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "smtputf8_enable": "yes",
            "smtpd_helo_required": "yes",
            "smtpd_helo_restrictions": "reject_non_fqdn_helo_hostname",
            "smtpd_recipient_restrictions": (
                f"check_recipient_access inline:{{ {{{TEMPORARY}=450 4.2.1 Mailbox busy, try again later}}, "
                f"{{{REFUSED}=550 5.1.1 No such user here}} }}, permit_mynetworks, reject_unauth_destination"
            ),
            "virtual_mailbox_domains": DOMAIN,
            "virtual_mailbox_base": str(self.root / "mail"),
            "virtual_mailbox_maps": f"inline:{{ {inline_mailboxes} }}",
            "virtual_uid_maps": f"static:{nobody.pw_uid}",
            "virtual_gid_maps": f"static:{nobody.pw_gid}",
            "transport_maps": (
                f"inline:{{ {{{BOUNCED}=error:5.2.1 Mailbox disabled}}, "
                f"{{{self.relay_domain}=smtp:[127.0.0.1]:{self.relay_port}}} }}"
            ),
            "relay_domains": self.relay_domain,
            "smtpd_tls_cert_file": str(cert_path),
            "smtpd_tls_key_file": str(key_path),
            "smtpd_tls_security_level": "may",
            "smtpd_tls_received_header": "yes",
            "smtpd_tls_loglevel": "1",
            "smtp_tls_security_level": "encrypt",  # Postroom must offer STARTTLS
            "smtp_tls_CAfile": str(ca_path),
            "smtp_tls_loglevel": "1",
            "debug_peer_list": "127.0.0.1",  # logs every SMTP reply line Postfix reads (EHLO keywords included)
            "debug_peer_level": "2",
            "minimal_backoff_time": "300s",
            "delay_warning_time": "0",
            "biff": "no",
            "smtpd_reject_unlisted_recipient": "no",  # the error transport bounces after accepting, not at RCPT
        }
        return "".join(f"{name} = {value}\n" for name, value in settings.items())

    def start(self, timeout: float = 20.0) -> PostfixPeer:
        self.root.chmod(0o755)  # Postfix's daemons run as the postfix user and must reach their queue
        for name in ("etc", "queue", "data"):
            (self.root / name).mkdir()
        (self.root / "data").chmod(0o755)
        shutil.chown(self.root / "data", "postfix")
        mail = self.root / "mail"
        mail.mkdir()
        mail.chmod(0o1777)
        (self.config_dir / "main.cf").write_text(self._main_cf())
        listener = f"127.0.0.1:{self.port} inet  n       -       n       -       -       smtpd\n"
        (self.config_dir / "master.cf").write_text(listener + SERVICES)
        try:
            self._postfix("start")
            self._wait_until_listening(timeout)
        except BaseException:
            self.stop()  # no master process is left behind when starting fails half-way
            raise
        return self

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"Postfix did not listen on 127.0.0.1:{self.port}:\n{self.log()}")

    def stop(self) -> None:
        try:
            if (self.root / "queue" / "pid" / "master.pid").exists():
                self._postfix("stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def flush(self) -> None:
        """Retry deferred mail now."""
        self._postfix("flush")

    def _postfix(self, command: str) -> None:
        result = subprocess.run(
            [POSTFIX, "-c", str(self.config_dir), command], capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"postfix {command} failed: {result.stdout}{result.stderr}\n{self.log()}")

    def wait_for_log(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log()
            if text in log:
                return log
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not in Postfix's log:\n{self.log()[-5000:]}")

    def wait_for_mailbox(self, needle: bytes, user: str = "ann", timeout: float = 20.0) -> bytes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            content = self.mailbox(user)
            if needle in content:
                return content
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} not delivered to {user}'s mailbox:\n{self.log()[-5000:]}")
