"""``spfkit flatten --keep/--only NAME``: a name the tree does not reach is a typo, never a
success (RFC 7208 §5.2 include, §6.1 redirect); a name that is no domain is a usage error."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.cli.conftest import spfkit

ZONE = """$ORIGIN example.
$TTL 300
@       IN SOA ns hostmaster 1 3600 600 86400 300
@       IN NS  ns
ns      IN A   192.0.2.53
top     IN TXT "v=spf1 include:p1.example include:p2.example -all include:late.example"
p1      IN TXT "v=spf1 ip4:192.0.2.0/24 include:inner.example -all"
inner   IN TXT "v=spf1 ip4:198.51.100.0/24 -all"
p2      IN TXT "v=spf1 ip4:203.0.113.0/24 -all"
late    IN TXT "v=spf1 ip4:10.0.0.0/8 -all"
chain   IN TXT "v=spf1 ip4:192.0.2.1 redirect=p2.example"
bare    IN TXT "v=spf1 ip4:192.0.2.1 -all"
"""


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("names") / "names.zone"
    path.write_text(ZONE, encoding="ascii")
    yield str(path)


def _flatten(zone: str, *args: str) -> subprocess.CompletedProcess[str]:
    return spfkit("flatten", "--zone", zone, "--format", "text", *args)


def _refused(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2 and proc.stdout == "", proc
    [line] = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr and "equivalent" not in proc.stderr
    return line


@pytest.mark.parametrize("name", ["bad domain", "nodot", "a..example", "x@example.com",
                                  "%{d}.example", "", "x" * 64 + ".example"])
@pytest.mark.parametrize("option", ["--keep", "--only"])
def test_a_name_that_is_no_domain_is_a_usage_error(zone: str, option: str, name: str) -> None:
    line = _refused(_flatten(zone, option, name, "top.example"))
    assert line.startswith(f"spfkit: error: Invalid value for '{option}': {name!r} is not a "
                           "domain name"), line


def test_a_keep_name_outside_the_tree_is_named_with_what_can_be_kept(zone: str) -> None:
    line = _refused(_flatten(zone, "--keep", "nonexistent.example", "top.example"))
    # after "-all" nothing is reached (§4.6.2): late.example is not in the tree
    assert line == ("spfkit: error: --keep nonexistent.example: not an include or redirect "
                    "target in top.example's tree (what can be kept: p1.example, p2.example, "
                    "inner.example) (see 'spfkit flatten --help')"), line
    assert "late.example" in _refused(_flatten(zone, "--keep", "late.example", "top.example"))


def test_an_only_name_must_be_one_of_the_top_record(zone: str) -> None:
    for name in ("typo.example", "inner.example"):  # inner.example is nested: not --only's
        line = _refused(_flatten(zone, "--only", name, "top.example"))
        assert line == (f"spfkit: error: --only {name}: not an include or redirect target of "
                        "top.example's record (what can be flattened: p1.example, p2.example) "
                        "(see 'spfkit flatten --help')"), line
    line = _refused(_flatten(zone, "--only", "typo.example", "bare.example"))
    assert line.endswith("of bare.example's record (it has none) (see 'spfkit flatten --help')")
    # one typo among good names is still refused, the typo named
    line = _refused(_flatten(zone, "--only", "p1.example", "--only", "p3.example",
                             "top.example"))
    assert "--only p3.example:" in line


def test_names_the_tree_reaches_flatten_as_documented(zone: str) -> None:
    kept = _flatten(zone, "--keep", "INNER.example.", "top.example")  # case, final dot
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout == ("top.example v=spf1 ip4:192.0.2.0/24 include:inner.example "
                           "ip4:203.0.113.0/24 -all\n")
    only = _flatten(zone, "--only", "p2.example", "top.example")
    assert only.returncode == 0, only.stderr
    assert only.stdout == "top.example v=spf1 include:p1.example ip4:203.0.113.0/24 -all\n"
    redirect = _flatten(zone, "--only", "p2.example", "chain.example")
    assert redirect.returncode == 0, redirect.stderr
    assert redirect.stdout == "chain.example v=spf1 ip4:192.0.2.1 ip4:203.0.113.0/24 -all\n"
    assert _flatten(zone, "--keep", "p2.example", "chain.example").returncode == 0


def test_a_missing_domain_is_still_said_first(zone: str) -> None:
    line = _refused(_flatten(zone, "--keep", "p1.example", "nothing.example"))
    assert line.startswith("spfkit flatten: nothing.example: no SPF record"), line
