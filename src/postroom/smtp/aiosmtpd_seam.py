"""The one place Postroom reaches into aiosmtpd's private members: its stream reader and writer, the idle timer and the
post-DATA envelope reset. aiosmtpd's public DATA hook only sees a message already held in memory as a list of lines,
so streaming DATA needs these; tests/integration/test_aiosmtpd_seam.py pins every behaviour relied on here.
"""

from __future__ import annotations

import asyncio
from importlib.metadata import version

from aiosmtpd.smtp import SMTP

# aiosmtpd 1.4: `_cb_client_connected(reader, writer)` hands over the streams commands are read from and replies
# written to; `_reset_timeout()` (re)arms the idle timer, which calls `_timeout_cb()` when it fires;
# `_set_post_data_state()` gives the session a fresh envelope after DATA.
PRIVATE_MEMBERS = ("_cb_client_connected", "_reset_timeout", "_timeout_cb", "_set_post_data_state")


class AiosmtpdChanged(ImportError):
    """The installed aiosmtpd no longer has a member this module relies on."""


def missing_members() -> list[str]:
    return [name for name in PRIVATE_MEMBERS if not callable(getattr(SMTP, name, None))]


if missing_members():  # fail at import, not in the middle of someone's DATA
    raise AiosmtpdChanged(
        f"aiosmtpd {version('aiosmtpd')} lacks {', '.join(missing_members())}: adapt postroom/smtp/aiosmtpd_seam.py"
    )


class StreamingSMTP(SMTP):
    """aiosmtpd's protocol, exposing what a streaming DATA needs as named methods instead of private attributes.

    Subclasses override ``smtp_DATA`` (aiosmtpd dispatches commands to ``smtp_<VERB>`` methods by name) and
    ``on_idle`` (called when the idle timer fires instead of aiosmtpd's silent close).
    """

    _data_reader: asyncio.StreamReader | None = None
    _reply_writer: asyncio.StreamWriter | None = None

    def _cb_client_connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super()._cb_client_connected(reader, writer)
        self._data_reader = reader
        self._reply_writer = writer

    def data_reader(self) -> asyncio.StreamReader:
        """The stream aiosmtpd reads commands from; DATA is read from it too (the same one after STARTTLS).

        A method, not a property: aiosmtpd's constructor reads every attribute of the protocol with getmembers().
        """
        if self._data_reader is None:
            raise AiosmtpdChanged("aiosmtpd did not hand over its stream reader on connection")
        return self._data_reader

    def write_line(self, line: str) -> None:
        """Queue a reply line without waiting for it to drain (usable from a timer callback)."""
        if self._reply_writer is None:
            raise AiosmtpdChanged("aiosmtpd did not hand over its stream writer on connection")
        self._reply_writer.write(line.encode() + b"\r\n")

    def restart_idle_timer(self) -> None:
        """The session is active: the idle timeout starts again from now."""
        self._reset_timeout()

    def reset_envelope(self) -> None:
        """The state after a finished (or refused) DATA: a fresh envelope, the session kept."""
        self._set_post_data_state()  # type: ignore[no-untyped-call]

    def _timeout_cb(self) -> None:
        self.on_idle()

    def on_idle(self) -> None:
        """The idle timeout fired; by default aiosmtpd's own behaviour (close without a word)."""
        super()._timeout_cb()  # type: ignore[no-untyped-call]
