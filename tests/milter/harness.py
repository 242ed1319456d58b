"""The milter's end-to-end parts, on top of ``tests/e2e/harness.py`` (BIND, Postfix, swaks).

* :class:`MilterProcess` — ``spfkit milter`` run by the test (as root, this interpreter), its
  log on stderr kept in a file; ready when its socket (``inet:`` or ``unix:``) accepts;
* :func:`milter_params` — the ``main.cf`` lines docs/milter.md gives, for start-postfix.sh;
* :func:`swaks_data` — one SMTP transaction whose DATA is a whole message we wrote;
* :class:`DovecotAuth` — a small server of Dovecot's SASL protocol, so that Postfix can take
  ``AUTH PLAIN`` (``smtpd_sasl_type = dovecot``) and hand the milter ``{auth_authen}``;
* :func:`raw_smtp` — a client that says exactly what a test needs, down to dropping the line.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.harness import Sent, log_lines, wait_for

__all__ = ["DovecotAuth", "MilterProcess", "milter_params", "raw_smtp", "swaks_data"]


def milter_params(socket_spec: str) -> list[str]:
    """docs/milter.md's main.cf lines (as start-postfix.sh's ``param=value`` arguments)."""
    return [
        f"smtpd_milters={socket_spec}",
        "non_smtpd_milters=",
        "milter_default_action=tempfail",
        "milter_protocol=6",
        "milter_connect_timeout=10s",
        "milter_command_timeout=30s",
        "milter_content_timeout=60s",
    ]


@dataclass
class MilterProcess:
    """``spfkit milter`` with ``args``, listening on ``listen``; stderr in ``log``."""

    listen: str  # inet:127.0.0.1:PORT or unix:/path
    args: Sequence[str]
    log: Path
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> MilterProcess:
        argv = [sys.executable, "-m", "spfkit", "milter", "--listen", self.listen, *self.args]
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err, start_new_session=True)
        try:
            wait_for(f"the milter on {self.listen}", self._accepts, 20)
            wait_for("the milter's ready line", lambda: self.lines("listening on"), 10)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- {self.log}:\n{self.text()}") from None
        return self

    def _accepts(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"spfkit milter exited with {self.proc.returncode}:\n{self.text()}")
        kind, _, where = self.listen.partition(":")
        try:
            if kind == "unix":
                with socket.socket(socket.AF_UNIX) as conn:
                    conn.settimeout(0.5)
                    conn.connect(where)
            else:
                host, _, port = where.rpartition(":")
                socket.create_connection((host, int(port)), timeout=0.5).close()
        except OSError:
            return False
        return True

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else "(no log)"

    def lines(self, *needles: str) -> list[str]:
        return log_lines(self.log, *needles)

    def wait_lines(self, *needles: str, count: int = 1, timeout: float = 15.0) -> list[str]:
        """The log lines with every needle, once there are ``count`` (the log is written by a
        queue's thread: a line may land a moment after the MTA has the reply)."""
        try:
            return wait_for(f"{count} milter log line(s) with {needles!r}",
                            lambda: (found := self.lines(*needles)) and len(found) >= count and found,
                            timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- {self.log}:\n{self.text()[-4000:]}") from None

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signum)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def swaks_data(port: int, client_ip: str, helo: str, mail_from: str, rcpts: Sequence[str],
               message: str, *, auth: tuple[str, str] | None = None, timeout: int = 60) -> Sent:
    """One transaction whose DATA is ``message`` (header and body, LF line ends)."""
    argv = ["swaks", "--server", f"127.0.0.1:{port}", "--local-interface", client_ip,
            "--helo", helo, "--from", mail_from or "<>", "--to", ",".join(rcpts),
            "--data", "-", "--timeout", str(timeout)]
    if auth is not None:
        argv += ["--auth", "PLAIN", "--auth-user", auth[0], "--auth-password", auth[1]]
    proc = subprocess.run(argv, input=message, capture_output=True, text=True,
                          timeout=timeout + 30, check=False)
    return Sent(proc.returncode, proc.stdout + proc.stderr)


def raw_smtp(port: int, client_ip: str, lines: Sequence[bytes], *, drop: bool = False,
             timeout: float = 30.0) -> list[bytes]:
    """Say ``lines`` one by one (each answered but DATA's body), the server's replies back.

    A line ``b"<DATA>"`` sends what follows without waiting for replies; ``drop`` closes the
    connection after the last line without QUIT.
    """
    replies: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                  source_address=(client_ip, 0)) as conn:
        reader = conn.makefile("rb")

        def reply() -> bytes:
            text = b""
            while True:
                line = reader.readline()
                text += line
                if len(line) < 4 or line[3:4] != b"-":
                    return text

        replies.append(reply())
        raw = False
        for line in lines:
            if line == b"<DATA>":
                raw = True
                continue
            conn.sendall(line)
            if not raw:
                replies.append(reply())
        if not drop:
            conn.sendall(b"QUIT\r\n")
            replies.append(reply())
    return replies


class DovecotAuth:
    """Dovecot's authentication protocol (the part Postfix speaks) on a UNIX socket.

    One user with one password, mechanism PLAIN; enough for ``smtpd_sasl_type = dovecot``.
    """

    def __init__(self, path: Path, user: str, password: str) -> None:
        self.path, self.user, self.password = path, user, password
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._stop = False

    def start(self) -> DovecotAuth:
        if self.path.exists():
            self.path.unlink()
        self._server.bind(str(self.path))
        os.chmod(self.path, 0o666)
        self._server.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.sendall(b"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nSPID\t%d\nCUID\t1\n"
                         b"COOKIE\t0123456789abcdef0123456789abcdef\nDONE\n" % os.getpid())
            for line in conn.makefile("rb"):
                parts = line.rstrip(b"\n").split(b"\t")
                if parts[0] != b"AUTH" or len(parts) < 3:
                    continue
                ident = parts[1]
                response = next((p[5:] for p in parts if p.startswith(b"resp=")), None)
                if response is None:
                    conn.sendall(b"CONT\t" + ident + b"\t\n")
                    continue
                conn.sendall(self._answer(ident, response))

    def _answer(self, ident: bytes, response: bytes) -> bytes:
        try:
            _, user, password = base64.b64decode(response).split(b"\0")
        except ValueError:
            return b"FAIL\t" + ident + b"\n"
        if user.decode() == self.user and password.decode() == self.password:
            return b"OK\t" + ident + b"\tuser=" + user + b"\n"
        return b"FAIL\t" + ident + b"\tuser=" + user + b"\n"

    def stop(self) -> None:
        self._stop = True
        self._server.close()


