"""The wizard's zone lines, loaded by the real tools: BIND (named-checkzone, named + dig) and
tinydns (tinydns-data, tinydns-get, tinydns + dig). RFC 1035 §3.3.14, §5.1; RFC 7208 §3.3.

Nothing is skipped: CI installs bind9, dnsutils and tinydns, and a missing binary fails the
test with the package to install. The lines come from real ``spfkit wizard`` runs; the
records come back through the servers and are compared byte for byte, string by string.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from spfkit.lookup import DnsResolver
from spfkit.wizard.zones import answer_size, split_strings, tinydns_strings
from tests.fixtures.named import running_named

RECIPES = Path(__file__).resolve().parents[1] / "fixtures" / "recipes"
TINYDNS_ADDRESSES = [f"127.0.0.{i}" for i in range(153, 163)]


def _ip4s(count: int) -> list[str]:
    return [arg for i in range(count) for arg in ("--ip4", f"192.0.2.{i + 1}")]


def _ip6s(count: int) -> list[str]:
    return [arg for i in range(count) for arg in ("--ip6", f"2001:db8:{i:x}::/48")]


#: name → wizard options; one record over 255 octets, one whose answer is over 512 octets
CASES: dict[str, list[str]] = {
    "example.net": ["--mx", "--all", "softfail", "--mail-host", "mail.example.net"],
    "strict.example.net": ["--no-mx", "--a", "--ip6", "2001:db8::/48", "--all", "fail"],
    "macro.example.net": [
        "--no-mx",
        "--include",
        "%{i}._spf.example.net",
        "--a-host",
        "smtp.example.org",
        "--mx-domain",
        "example.org",
        "--all",
        "neutral",
    ],
    "long.example.net": ["--no-mx", *_ip4s(20), "--include", "_spf.provider.example"],
    "huge.example.net": ["--no-mx", *_ip4s(36), *_ip6s(8)],
}
ZONE_HEAD = """$TTL 300
. IN SOA ns.spfkit.test. hostmaster.spfkit.test. ( 1 3600 600 86400 300 )
. IN NS ns.spfkit.test.
ns.spfkit.test. IN A 127.0.0.1
"""


def wizard(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "spfkit", "wizard", *args, "--offline", "--ttl", "300"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def need(*tools: str) -> None:
    for tool in tools:
        assert shutil.which(tool), (
            f"{tool} is not installed (apt-get install -y bind9 dnsutils tinydns)"
        )


@pytest.fixture(scope="module")
def records() -> dict[str, str]:
    """name → the record ``--format text`` prints; plus the HELO record of mail.example.net."""
    texts = {
        name: wizard(name, *opts, "--format", "text").stdout.rstrip("\n")
        for name, opts in CASES.items()
    }
    texts["mail.example.net"] = "v=spf1 a -all"
    assert (
        len(texts["long.example.net"]) > 255
        and answer_size("long.example.net", split_strings(texts["long.example.net"])) < 450
    )
    assert answer_size("huge.example.net", split_strings(texts["huge.example.net"])) > 512
    return texts


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A world-searchable directory under /tmp (the daemons drop privileges; tmp_path is 0700)."""
    base = Path(tempfile.mkdtemp(prefix="spfkit-wizard-", dir="/tmp"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _unescape(text: str, decimal: bool) -> bytes:
    """``\\DDD`` (dig: decimal) or ``\\NNN`` (tinydns-get: octal), and ``\\X`` for X."""
    out = bytearray()
    digits = r"[0-9]{3}" if decimal else r"[0-7]{3}"
    for match in re.finditer(rf"\\({digits})|\\(.)|([^\\])", text, re.DOTALL):
        if match.group(1):
            out.append(int(match.group(1), 10 if decimal else 8))
        else:
            out += (match.group(2) or match.group(3)).encode("latin-1")
    return bytes(out)


def dig_strings(server: str, port: int, name: str, *flags: str) -> tuple[bytes, ...]:
    """The character-strings of the one TXT record ``dig +short`` shows for ``name``."""
    proc = subprocess.run(
        [
            "dig",
            "+short",
            "+time=2",
            "+tries=2",
            f"@{server}",
            "-p",
            str(port),
            name,
            "TXT",
            *flags,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    return tuple(_unescape(s, decimal=True) for s in re.findall(r'"((?:[^"\\]|\\.)*)"', lines[0]))


# -- BIND ----------------------------------------------------------------------------------


def test_bind_lines_pass_named_checkzone_and_named_serves_them_byte_for_byte(
    records: dict[str, str], workdir: Path
) -> None:
    need("named", "named-checkzone", "dig")
    lines = [
        line
        for name, opts in CASES.items()
        for line in wizard(name, *opts, "--format", "bind").stdout.splitlines()
    ]
    assert 'mail.example.net. 300 IN TXT "v=spf1 a -all"' in lines
    zone = workdir / "wizard.zone"
    zone.write_text(ZONE_HEAD + "\n".join(lines) + "\n", encoding="ascii")
    check = subprocess.run(
        ["named-checkzone", ".", str(zone)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0 and check.stdout.rstrip().endswith("OK"), (
        check.stdout + check.stderr
    )

    with running_named(workdir / "named", zone) as port:
        resolver = DnsResolver(["127.0.0.1"], port=port, timeout=3)
        for name, record in records.items():
            expected = split_strings(record)
            assert dig_strings("127.0.0.1", port, name) == expected, name
            assert dig_strings("127.0.0.1", port, name, "+tcp") == expected, name
            lookup = asyncio.run(resolver.txt(name))
            assert lookup.records == (expected,), name
            assert b"".join(expected) == record.encode("ascii")
        assert len(split_strings(records["huge.example.net"])) == 3


# -- tinydns -------------------------------------------------------------------------------


def tinydns_data(directory: Path, lines: list[str]) -> Path:
    directory.mkdir(mode=0o755)
    data = directory / "data"
    data.write_text(
        "\n".join([".example.net::ns.example.net:300", *lines]) + "\n", encoding="ascii"
    )
    proc = subprocess.run(
        ["tinydns-data"], cwd=directory, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (directory / "data.cdb").exists()
    return data


def tinydns_get(directory: Path, name: str) -> tuple[tuple[bytes, ...], int]:
    """The strings and TTL of ``name``'s TXT answer, decoded from tinydns-get's octal output."""
    proc = subprocess.run(
        ["tinydns-get", "TXT", name], cwd=directory, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answers = [line for line in proc.stdout.splitlines() if line.startswith("answer: ")]
    assert len(answers) == 1, proc.stdout
    _, owner, ttl, rrtype, rdata = answers[0].split(" ", 4)
    assert (owner, rrtype) == (name, "16")
    raw = _unescape(rdata, decimal=False)
    strings: list[bytes] = []
    i = 0
    while i < len(raw):
        strings.append(raw[i + 1 : i + 1 + raw[i]])
        i += 1 + raw[i]
    assert i == len(raw), answers[0]
    return tuple(strings), int(ttl)


@pytest.mark.parametrize("generic", [False, True], ids=["plain", "generic"])
def test_tinydns_data_accepts_the_lines_and_means_the_record(
    records: dict[str, str], workdir: Path, generic: bool
) -> None:
    need("tinydns-data", "tinydns-get")
    extra = ["--tinydns-generic"] if generic else ["--format", "tinydns"]
    lines: list[str] = []
    for name, opts in CASES.items():
        proc = wizard(name, *opts, *extra)
        lines += proc.stdout.splitlines()
        if name == "huge.example.net":
            assert "tinydns sends at most 512" in proc.stderr
        else:
            assert "tinydns sends at most 512" not in proc.stderr
    assert all(
        ":" not in line[1:].split(":", 1)[1].rsplit(":", 1)[0] for line in lines if line[0] == "'"
    )
    tinydns_data(workdir / "data", lines)
    for name, record in records.items():
        strings, ttl = tinydns_get(workdir / "data", name)
        assert ttl == 300, name
        assert b"".join(strings) == record.encode("ascii"), name
        assert strings == (split_strings(record) if generic else tinydns_strings(record)), name


def test_tinydns_on_loopback_serves_the_record(records: dict[str, str], workdir: Path) -> None:
    """tinydns on 127.0.0.x:53 (UDP only, no EDNS): every answer within 512 octets comes back."""
    need("tinydns", "tinydns-data", "dig")
    assert os.geteuid() == 0, "tinydns needs root (port 53 and chroot); CI runs as root"
    lines = [
        line
        for name, opts in CASES.items()
        if name != "huge.example.net"
        for line in wizard(name, *opts, "--tinydns-generic").stdout.splitlines()
    ]
    data = tinydns_data(workdir / "data", lines)
    run_dir = workdir / "tinydns"
    errors: list[str] = []
    for address in TINYDNS_ADDRESSES:  # another test run may hold one: take the next
        start = subprocess.run(
            [str(RECIPES / "start-tinydns.sh"), str(run_dir), address, str(data)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if start.returncode == 0:
            break
        errors.append(start.stderr)
        subprocess.run(
            [str(RECIPES / "stop-tinydns.sh"), str(run_dir)], capture_output=True, timeout=60
        )
    else:
        raise AssertionError("start-tinydns.sh failed:\n" + "\n".join(errors))
    try:
        for name, record in records.items():
            if name == "huge.example.net":
                continue
            assert dig_strings(address, 53, name) == split_strings(record), name
    finally:
        subprocess.run(
            [str(RECIPES / "stop-tinydns.sh"), str(run_dir)], capture_output=True, timeout=60
        )
