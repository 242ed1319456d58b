"""``spfkit policyd`` for an operator coming from policyd-spf: ``--config`` with policyd-spf's
file, ``--import``, every mistake at once; and the warning for a non-loopback ``--listen``."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import spfkit
from tests.policy.test_server import Stderr, ask, request, spfkit_policyd

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DEBIAN_CONF = FIXTURES / "policyd-spf.conf"  # Debian's /etc/postfix-policyd-spf-python/policyd-spf.conf
COMMENTED_CONF = FIXTURES / "policyd-spf.conf.commented"


def policyd(*args: str) -> subprocess.CompletedProcess[str]:
    return spfkit("policyd", *args)


def test_check_config_reads_debians_file_and_says_which_format() -> None:
    proc = policyd("--config", str(DEBIAN_CONF), "--check-config")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"{DEBIAN_CONF}: OK"
    assert lines[1].startswith("  format: policyd-spf")
    assert any("TestOnly (line 4)" in line and "test_only = false" in line for line in lines)
    # policyd-spf.conf(5): TempError_Defer = False treats temperror as no record at all
    assert "temperror=accept" in proc.stdout and "fail=reject" in proc.stdout


def test_check_config_says_toml_for_a_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "policyd.toml"
    path.write_text('HELO_reject = "Softfail"\n')
    proc = policyd("--config", str(path), "--check-config")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1] == "  format: TOML"


@pytest.mark.parametrize("source", [DEBIAN_CONF, COMMENTED_CONF])
def test_import_writes_toml_to_stdout(source: Path, tmp_path: Path) -> None:
    proc = policyd("--import", str(source))
    assert proc.returncode == 0, proc.stderr
    data = tomllib.loads(proc.stdout)
    assert data["test_only"] is False and data["TempError_Defer"] is False
    assert data["skip_addresses"] == ["127.0.0.0/8", "::ffff:127.0.0.0/104", "::1"]
    assert "# TestOnly (line" in proc.stdout
    target = tmp_path / "policyd.toml"
    target.write_text(proc.stdout)
    check = policyd("--config", str(target), "--check-config")
    assert check.returncode == 0 and "format: TOML" in check.stdout
    original = policyd("--config", str(source), "--check-config").stdout.splitlines()
    # the same decisions, headers, DNS and listen lines (only the file name and notes differ)
    assert [x for x in check.stdout.splitlines() if x.startswith(("  helo", "  mailfrom", "  headers"))] \
        == [x for x in original if x.startswith(("  helo", "  mailfrom", "  headers"))]


def test_import_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "out.toml"
    proc = policyd("--import", str(DEBIAN_CONF), "-o", str(out))
    assert proc.returncode == 0 and proc.stdout == ""
    assert tomllib.loads(out.read_text())["HELO_reject"] == "Fail"
    bad = policyd("--import", str(DEBIAN_CONF), "-o", str(tmp_path / "no" / "such" / "dir.toml"))
    assert bad.returncode == 1 and "cannot write" in bad.stderr


def test_import_lists_every_mistake_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "policyd-spf.conf"
    source.write_text("debugLevel = 1\nHELO_reject = Fial\nMock = False\nWhitelist = 10.1.1.1/40\n")
    out = tmp_path / "out.toml"
    proc = policyd("--import", str(source), "-o", str(out))
    assert proc.returncode == 2 and not out.exists()
    lines = proc.stderr.splitlines()
    assert lines[0].startswith(f"spfkit: error: {source}:2: HELO_reject: ")
    assert lines[1].startswith(f"{source}:3: Mock: not supported")
    assert lines[2].startswith(f"{source}:4: Whitelist: ")
    assert len(lines) == 3


def test_import_refuses_a_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "policyd.toml"
    path.write_text('HELO_reject = "Fail"\n')
    proc = policyd("--import", str(path))
    assert proc.returncode == 2 and "already spfkit's TOML" in proc.stderr


def test_import_of_a_policyd_spf_conf_that_sets_nothing_writes_its_defaults(tmp_path: Path) -> None:
    """Comments only: valid in both formats, and for policyd-spf every option at its own
    default, which is not always spfkit's: the TOML written keeps policyd-spf's behaviour."""
    path = tmp_path / "policyd-spf.conf"
    path.write_text("# policyd-spf.conf with every line commented out\n\n#debugLevel = 1\n")
    proc = policyd("--import", str(path))
    assert proc.returncode == 0, proc.stderr
    data = tomllib.loads(proc.stdout)
    assert data["TempError_Defer"] is False and data["Hide_Receiver"] is False
    out = tmp_path / "policyd.toml"
    out.write_text(proc.stdout)
    checked = policyd("--config", str(out), "--check-config")
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--import", "x", "--check-config"], "--import takes no"),
    (["-o", "x.toml"], "--output goes with --import"),
])
def test_import_usage_errors(args: list[str], message: str) -> None:
    proc = policyd(*args)
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_a_config_with_many_mistakes_lists_them_all(tmp_path: Path) -> None:
    path = tmp_path / "policyd.toml"
    path.write_text('HELO_reject = "Fial"\nMail_From_reject = "Fail"\ndebugLevel = 7\nTestOnly = 0\n')
    proc = policyd("--config", str(path), "--check-config")
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("spfkit: error: ")
    assert [re.search(rf"{re.escape(str(path))}:(\d+): (\w+)", line).groups()  # type: ignore[union-attr]
            for line in lines] == [("1", "HELO_reject"), ("3", "debugLevel"), ("4", "TestOnly")]


# ----------------------------------------------------------------- --listen not on loopback

def test_check_config_warns_about_a_non_loopback_listen() -> None:
    proc = policyd("--listen", "0.0.0.0:10023", "--check-config")
    assert proc.returncode == 0
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("spfkit: warning: --listen 0.0.0.0:10023 is not a "
                                                   "loopback address")
    assert "firewall" in lines[0] and "check_policy_service inet:127.0.0.1:10023" in lines[0]


@pytest.mark.parametrize("listen", ["127.0.0.1:10023", "[::1]:10023", "unix:/run/spfkit/policy"])
def test_no_warning_on_loopback_or_a_unix_socket(listen: str) -> None:
    proc = policyd("--listen", listen, "--check-config")
    assert proc.returncode == 0 and proc.stderr == ""


@contextlib.contextmanager
def server(*args: str) -> Iterator[tuple[subprocess.Popen[bytes], Stderr]]:
    """``spfkit policyd ARGS`` as a real process; it must end with status 0 on SIGTERM."""
    proc = spfkit_policyd(*args)
    try:
        yield proc, Stderr(proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_a_server_on_all_addresses_warns_then_serves() -> None:
    with server("--listen", "0.0.0.0:0", "--log", "stderr") as (proc, err):
        port = int(err.wait_for(r"listening on 0\.0\.0\.0:(\d+)").group(1))
        with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:  # it serves
            conn.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=127.0.0.1\n"
                         b"helo_name=h.example\nsender=a@b.example\n\n")
            assert conn.recv(4096).startswith(b"action=DUNNO")
        warnings = [line for line in err.text.splitlines() if "warning: --listen" in line]
        assert len(warnings) == 1 and "not a loopback address" in warnings[0]


def test_sighup_reloads_a_policyd_spf_file_and_logs_every_mistake_on_one_line(tmp_path: Path) -> None:
    config = tmp_path / "policyd-spf.conf"
    config.write_text("debugLevel = 1\nTestOnly = 1\nskip_addresses = 192.0.2.1/32\n")
    zone = FIXTURES.parent.parent / "examples" / "example.zone"
    with server("--config", str(config), "--listen", "127.0.0.1:0", "--log", "stderr",
                "--zone", str(zone)) as (proc, err):
        port = int(err.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        # 127.0.0.1 is no longer skipped: mail.example.com ("v=spf1 a -all") fails it
        failing = {"client_address": "127.0.0.1", "sender": "a@mail.example.com"}
        assert ask(port, request(instance="1", **failing)).startswith("550 5.7.23")
        config.write_text("debugLevel = 1\nTestOnly = 0\nskip_addresses = 192.0.2.1/32\n")
        proc.send_signal(signal.SIGHUP)
        err.wait_for(r"configuration reloaded from")
        assert ask(port, request(instance="2", **failing)).startswith("PREPEND Received-SPF: fail")
        config.write_text("HELO_reject = Fial\nMock = True\n")
        proc.send_signal(signal.SIGHUP)
        found = err.wait_for(r"configuration not reloaded, keeping the old one: (.*)\n")
        assert f"{config}:1: HELO_reject" in found.group(1) and f"{config}:2: Mock" in found.group(1)
        assert ask(port, request(instance="3", **failing)).startswith("PREPEND Received-SPF: fail")


def test_import_reads_a_file_that_is_valid_toml_as_policyd_spfs(tmp_path: Path) -> None:
    """Bare ``Name = value`` lines are valid TOML too; ``--import`` says the file is
    policyd-spf's, so policyd-spf's defaults are written out (not refused as TOML)."""
    source = tmp_path / "policyd-spf.conf"
    source.write_text("debugLevel = 1\nLookup_Time = 20\n")
    proc = policyd("--import", str(source))
    assert proc.returncode == 0, proc.stderr
    data = tomllib.loads(proc.stdout)
    assert data["TempError_Defer"] is False and data["Hide_Receiver"] is False
    assert data["Lookup_Time"] == 20
    toml = tmp_path / "spfkit.toml"
    toml.write_text('HELO_reject = "Fail"\n')  # a quoted value: TOML's own syntax
    refused = policyd("--import", str(toml))
    assert refused.returncode == 2 and "already spfkit's TOML format" in refused.stderr
