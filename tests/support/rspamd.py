"""A real rspamd (Debian package, installed by ``make test``) on a loopback port with a minimal configuration.

No Lua rules and no modules, so nothing needs redis or the network; its DNS points at a port on 127.0.0.1 where
nothing answers. rspamd's built-in GTUBE test patterns give each action on demand:
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.server import free_port

# rspamd's test patterns (enable_test_patterns): the GTUBE line with this first letter yields the action.
GTUBE = {
    "reject": "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X",
    "add header": "YJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X",
    "rewrite subject": "ZJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X",
}
START_SECONDS = 60.0


def available() -> bool:
    return shutil.which("rspamd") is not None


class Rspamd:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _config(self) -> Path:
        # A short list of suffixes: compiling the full public suffix list takes rspamd most of a minute.
        (self.workdir / "tld.dat").write_text("com\norg\nnet\ntest\nexample\nlocalhost\n")
        config = self.workdir / "rspamd.conf"
        config.write_text(
            f"""options {{
  pidfile = "{self.workdir}/rspamd.pid";
  dns {{ nameserver = ["127.0.0.1:{free_port()}"]; timeout = 1s; retransmits = 1; }}
  hs_cache_dir = "{self.workdir}";
  url_tld = "{self.workdir}/tld.dat";
  local_addrs = [];
  enable_test_patterns = true;
  gtube_patterns = "all";
}}
logging {{ type = "file"; filename = "{self.workdir}/rspamd.log"; level = "notice"; }}
worker "normal" {{ bind_socket = "127.0.0.1:{self.port}"; count = 1; }}
actions {{ reject = 15; add_header = 6; rewrite_subject = 8; }}
"""
        )
        return config

    def start(self) -> Rspamd:
        config = self._config()
        log = (self.workdir / "stdout.log").open("ab")
        command = ["rspamd", "--no-fork", "--insecure", "-c", str(config), "-u", "root", "-g", "root"]
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rspamd exited: {(self.workdir / 'stdout.log').read_text(errors='replace')}")
            try:
                if httpx.get(f"{self.url}/ping", timeout=1, trust_env=False).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("rspamd did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def running_rspamd(workdir: Path) -> Iterator[Rspamd]:
    server = Rspamd(workdir).start()
    try:
        yield server
    finally:
        server.stop()
