"""The moving parts of the end-to-end tests: BIND, a private Postfix, swaks, a Maildir, logs.
(The copy of spfkit that Postfix's spawn(8) can run as ``nobody`` is in ``spawn_tree.py``.)

Everything binds to 127.0.0.x only and lives under one world-searchable directory
(``/tmp/spfkit-e2e-<pid>``): Postfix delivers as ``nobody`` and spawn(8) runs the policy
as ``nobody``, so pytest's ``tmp_path`` (``/tmp/pytest-of-root`` is 0700) will not do.
The shell scripts in ``tests/fixtures/recipes/`` are copies of ``../shared/recipes/``
(see ``real-postfix-and-dns.md`` there); this module only drives them.

No fixed sleeps: readiness is polled (a port that accepts, a message that lands in the
Maildir, a line that appears in a log).
"""

from __future__ import annotations

import email
import email.policy
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from tests.fixtures.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "tests" / "fixtures" / "recipes"
SPAWN_USER = "nobody"

__all__ = [
    "SPAWN_USER", "Named", "PolicyProcess", "Postfix", "Sent", "as_user", "free_port", "log_lines",
    "make_base", "send", "unfold", "wait_for", "wait_for_port",
]


# ------------------------------------------------------------------------------- small tools


def wait_for(what: str, probe, timeout: float = 10.0, interval: float = 0.02):
    """Call ``probe()`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 15.0) -> None:
    """Until 127.0.0.1:``port`` accepts a TCP connection (or ``proc`` exits: then fail)."""

    def probe() -> bool:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{proc.args!r} exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return False
        return True

    wait_for(f"127.0.0.1:{port} to accept connections", probe, timeout)


def run(*args: object, env: dict[str, str] | None = None) -> str:
    """Run a recipe script; on failure, raise with its output (the scripts explain themselves)."""
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, timeout=120, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def as_user(user: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a command as ``user`` (what start-postfix.sh checks with setpriv), with a clean environment."""
    pw = pwd.getpwnam(user)
    return subprocess.run(
        ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", *args],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, check=False,
    )


def make_base(path: Path) -> Path:
    """A fresh directory ``nobody`` can search, every parent included (recipe §7.6)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    path.chmod(0o755)
    for parent in [path, *path.parents]:
        if not parent.stat().st_mode & stat.S_IXOTH:
            raise AssertionError(f"{parent} is not world-searchable: nobody (Postfix's spawn and virtual "
                                 f"users) could not reach {path}")
    return path


# ------------------------------------------------------------------------------- daemons


@dataclass
class Named:
    """BIND on 127.0.0.1:``port`` serving ``zone`` as the root zone (start-named.sh)."""

    dir: Path
    zone: Path
    port: int = 0

    def start(self) -> Named:
        self.port = free_port()
        run("bash", RECIPES / "start-named.sh", self.dir, self.port, self.zone)
        return self

    def stop(self) -> None:
        run("bash", RECIPES / "stop-named.sh", self.dir)


@dataclass
class Postfix:
    """A private Postfix on 127.0.0.1:``port`` (start-postfix.sh) asking ``policy`` at RCPT."""

    dir: Path
    policy: str
    params: Sequence[str] = ()
    port: int = 0

    @property
    def log(self) -> Path:
        return self.dir / "log" / "postfix.log"

    @property
    def maildir(self) -> Path:
        return self.dir / "mail" / "inbox" / "new"

    def start(self) -> Postfix:
        self.port = free_port()
        run("bash", RECIPES / "start-postfix.sh", self.dir, self.port, self.policy, *self.params)
        return self

    def stop(self, keep: bool = False) -> None:
        env = {**os.environ, "KEEP_DIR": "1" if keep else "0"}
        run("bash", RECIPES / "stop-postfix.sh", self.dir, env=env)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_lines(self, needle: str) -> list[str]:
        return [line for line in self.log_text().splitlines() if needle in line]

    def delivered(self, subject: str, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages with this Subject in the Maildir, once there are ``count`` of them."""

        def probe() -> list[EmailMessage] | None:
            found = []
            for path in sorted(self.maildir.glob("*")) if self.maildir.exists() else ():
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue
                msg = email.message_from_bytes(data, policy=email.policy.default)
                if msg.get("Subject") == subject:
                    found.append(msg)
            return found if len(found) >= count else None

        try:
            return wait_for(f"{count} message(s) with Subject {subject!r} in {self.maildir}", probe, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- {self.log}:\n{self.tail()}") from None

    def tail(self, n: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])


@dataclass
class PolicyProcess:
    """A policy server the test runs itself (TCP), its stderr kept in ``log``."""

    argv: Sequence[str]
    port: int
    log: Path
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> PolicyProcess:
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(list(self.argv), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            wait_for_port(self.port, self.proc)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- {self.log}:\n{self.log.read_text(errors='replace')}") from None
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# ------------------------------------------------------------------------------- swaks


@dataclass(frozen=True)
class Sent:
    """What swaks saw: its exit status (0 sent, 24 no RCPT accepted) and the transcript."""

    returncode: int
    transcript: str

    def replies(self, prefix: str = "<**") -> list[str]:
        """Server replies swaks marked as errors (``<**``) or any (``<-``)."""
        return [line[4:].strip() for line in self.transcript.splitlines() if line.startswith(prefix)]


def send(port: int, client_ip: str, helo: str, mail_from: str, rcpts: Iterable[str], subject: str) -> Sent:
    """One SMTP transaction from ``client_ip`` (Linux routes all of 127/8 to lo)."""
    proc = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{port}", "--local-interface", client_ip, "--helo", helo,
         "--from", mail_from or "<>", "--to", ",".join(rcpts), "--header", f"Subject: {subject}",
         "--body", f"end-to-end test {subject}", "--timeout", "30"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    return Sent(proc.returncode, proc.stdout + proc.stderr)


# ------------------------------------------------------------------------------- logs


def log_lines(path: Path, *needles: str) -> list[str]:
    """Lines of a log file that contain every needle."""
    if not path.exists():
        return []
    return [line for line in path.read_text(errors="replace").splitlines() if all(n in line for n in needles)]


def wait_for_log_lines(path: Path, *needles: str, timeout: float = 10.0) -> list[str]:
    """The lines of ``path`` with every needle, once there is one: the writer is another process
    (a log queue's thread, Postfix's postlogd), so a line may land a moment after the reply."""
    return wait_for(f"a line with {needles!r} in {path}", lambda: log_lines(path, *needles), timeout)


def unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]+", " ", str(value))
