"""``spfkit verify`` as users run it: the bundled example zone or real DNS.

(In this process with piped stdio, see ``tests/cli/conftest.py``.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import spfkit
from tests.fixtures.dnsserver import ZoneDataServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ZONE = ROOT / "examples" / "example.zone"
MESSAGE = ROOT / "examples" / "message.eml"


def verify_json(*args: str, stdin: bytes | None = None) -> dict:
    proc = spfkit("verify", *args, "--zone", str(EXAMPLE_ZONE), "--format", "json", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_example_message_as_text() -> None:
    proc = spfkit("verify", str(MESSAGE), "--zone", str(EXAMPLE_ZONE), "--receiver",
                  "mx.example.org")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("Authentication report from mx.example.org\n")
    for part in ("client IP  198.51.100.20", "from the topmost Received: header",
                 "MAIL FROM  <bounce+4711@news.example.com> from the Return-Path: header",
                 "PRA        news@example.com", "from the From: header (RFC 4407 §2)",
                 "\nmfrom: pass\n", "\nhelo: none\n", "\npra: softfail\n",
                 'news.example.com: "v=spf1 mx include:_spf.mailprovider.example -all"',
                 "Received-SPF: pass (mx.example.org: ",
                 "sender-id=softfail header.from=news@example.com",
                 "what it means:", "RFC 7208 §8.5", "Lint findings for the records involved"):
        assert part in out, part
    assert proc.stderr == ""


def test_json_has_one_object_per_check() -> None:
    out = verify_json(str(MESSAGE))
    assert {k: (out[k]["result"], out[k]["identity"]) for k in ("mfrom", "helo", "pra")} == {
        "mfrom": ("pass", "bounce+4711@news.example.com"),
        "helo": ("none", "out1.mailprovider.example"),
        "pra": ("softfail", "news@example.com"),
    }
    assert out["pra"]["reason"] is None and out["pra"]["header"] == "From"
    assert out["ip"] == {"value": "198.51.100.20", "source": "received", "header": {
        "index": 1, "count": 1, "by": "mx.example.org",
        "from": "out1.mailprovider.example (out1.mailprovider.example [198.51.100.20])",
        "passed": []}}
    assert out["mail_from"]["source"] == "return-path"
    assert isinstance(out["lint"], dict)


def test_json_flag_and_stdin() -> None:
    data = MESSAGE.read_bytes()
    proc = spfkit("verify", "-", "--zone", str(EXAMPLE_ZONE), "--json", stdin=data)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["pra"]["result"] == "softfail"


def test_options_override_the_headers() -> None:
    out = verify_json(str(MESSAGE), "--ip", "192.0.2.25", "--helo", "mail.example.com",
                      "--mail-from", "alice@example.com", "--no-lint")
    assert {k: out[k]["result"] for k in ("mfrom", "helo", "pra")} == {
        "mfrom": "pass", "helo": "pass", "pra": "pass"}
    assert out["ip"] == {"value": "192.0.2.25", "source": "option"}
    assert out["lint"] == {}


def test_null_mail_from_option() -> None:
    out = verify_json(str(MESSAGE), "--mail-from", "")
    assert out["mfrom"]["identity"] == "postmaster@out1.mailprovider.example"
    assert out["mail_from"] == {"value": "", "source": "option"}


def test_no_pra_is_explained() -> None:
    data = MESSAGE.read_bytes().replace(b"From: Example Corp News <news@example.com>\n", b"")
    out = verify_json("-", stdin=data)
    assert out["pra"]["result"] == "permerror" and out["pra"]["identity"] is None
    assert "no From:" in out["pra"]["reason"]


def test_real_dns_options() -> None:
    zone = {"example.net": [{"TXT": "v=spf1 ip4:192.0.2.1 -all"}],
            "mx.example.net": [{"TXT": "v=spf1 ip4:192.0.2.1 -all"}]}
    message = (b"Return-Path: <a@example.net>\r\nReceived: from mx.example.net "
               b"(mx.example.net [192.0.2.1]) by x; d\r\nFrom: b@example.net\r\n\r\n")
    with ZoneDataServer(zone) as dns:
        proc = spfkit("verify", "-", "--nameserver", f"127.0.0.1:{dns.port}", "--timeout", "2",
                      "--json", "--no-lint", stdin=message)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {k: out[k]["result"] for k in ("mfrom", "helo", "pra")} == {
        "mfrom": "pass", "helo": "pass", "pra": "pass"}


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["verify", "/nonexistent/message.eml", "--zone", str(EXAMPLE_ZONE)], None, "cannot read"),
    (["verify", str(MESSAGE), "--ip", "not-an-ip", "--zone", str(EXAMPLE_ZONE)], None,
     "not an IPv4 or IPv6 address"),
    (["verify", "-", "--zone", str(EXAMPLE_ZONE)], b"From: a@example.com\r\n\r\n",
     "no client IP: the message has no Received: header; give --ip IP"),
    (["verify", "-", "--zone", str(EXAMPLE_ZONE), "--ip", "192.0.2.1", "--helo", "h.example"],
     b"From: a@example.com\r\n\r\n", "no MAIL FROM"),
    (["verify", "-", "--zone", str(EXAMPLE_ZONE)],
     b"Received: by mail.example.com (Postfix, from userid 1000); d\r\n\r\n",
     "no client IP: its one Received: header is a hop of the receiver's own (no from-clause"),
    (["verify", "-", "--zone", str(EXAMPLE_ZONE)],
     b"Received: from localhost by mail.example.com; d\r\n\r\n",
     "no client IP: Received: header 1 names no client address; give --ip IP"),
    (["verify", str(MESSAGE), "--trusted-relay", "192.0.2.0/33"], None,
     "'192.0.2.0/33' is not an IP network or address"),
    (["verify", str(MESSAGE), "--trusted-relay", "mx.example.org"], None,
     "--trusted-relay"),
    (["verify", "-", "--zone", str(EXAMPLE_ZONE)], b"", "has no header fields"),
    (["verify", str(MESSAGE), "--zone", "/nonexistent.zone"], None, "nonexistent.zone"),
    (["verify", str(MESSAGE), "--format", "xml"], None, "'xml' is not one of"),
    (["verify"], None, "Missing argument 'MESSAGE'"),
    (["verify", str(MESSAGE), "--time-budget", "0"], None, "--time-budget"),
])
def test_usage_errors_are_one_line_and_exit_2(args: list[str], stdin: bytes | None,
                                              message: str) -> None:
    proc = spfkit(*args, stdin=stdin)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("spfkit: error: ")
    assert message in proc.stderr


def test_help() -> None:
    proc = spfkit("verify", "--help")
    assert proc.returncode == 0
    for word in ("MESSAGE", "--ip", "--helo", "--mail-from", "--nameserver", "--zone",
                 "--timeout", "--format", "Exit status"):
        assert word in proc.stdout
    assert "verify" in spfkit("--help").stdout and "verifier" in spfkit("--help").stdout


def test_verifier_usage_errors() -> None:
    for args, message in (
        (["--listen", "nowhere", "--hostname", "v.example", "--relay", "127.0.0.1:25"],
         "HOST:PORT"),
        (["--listen", "127.0.0.1:2525", "--hostname", "v.example", "--relay", "127.0.0.1:25",
          "--rate", "lots"], "N/PERIOD"),
        (["--listen", "127.0.0.1:2525", "--hostname", "v.example"], "--relay"),
        (["--listen", "127.0.0.1:2525", "--hostname", "v.example", "--relay", "127.0.0.1:25",
          "--max-size", "10"], "at least 1024"),
        (["--listen", "127.0.0.1:2525", "--hostname", "a b", "--relay", "127.0.0.1:25"],
         "not a host name"),
    ):
        proc = spfkit("verifier", *args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert spfkit("verifier", "--help").returncode == 0


def test_the_documented_example_is_real_output() -> None:
    """docs/verifier.md shows examples/message.eml and its report as spfkit prints them.

    Compared up to the lint section, whose wording belongs to ``spfkit lint``; regenerate
    the block with the command it shows when the report changes.
    """
    doc = (ROOT / "docs" / "verifier.md").read_text(encoding="utf-8")
    command = ("$ spfkit verify examples/message.eml --zone examples/example.zone "
               "--receiver mx.example.org\n")
    shown = doc.split(command, 1)[1].split("\n```", 1)[0] + "\n"
    assert MESSAGE.read_text(encoding="utf-8") in doc
    proc = spfkit("verify", str(MESSAGE), "--zone", str(EXAMPLE_ZONE), "--receiver",
                  "mx.example.org")
    assert proc.returncode == 0, proc.stderr
    marker = "Lint findings for the records involved"
    assert marker in shown and marker in proc.stdout
    assert shown.split(marker)[0] == proc.stdout.split(marker)[0]


# -- which Received: header names the client (issue 15 item 3) -----------------------------------

MESSAGES = Path(__file__).resolve().parent / "messages"


def test_one_local_amavis_hop_keeps_the_good_verdict() -> None:
    """Postfix → amavisd-new on 127.0.0.1 → Postfix: the client is the MX's client."""
    out = verify_json(str(MESSAGES / "amavis.eml"), "--no-lint")
    assert out["mfrom"]["result"] == "pass"
    assert out["ip"]["value"] == "198.51.100.20"
    header = out["ip"]["header"]
    assert (header["index"], header["count"], header["by"]) == (3, 3, "mx.example.org")
    assert header["from"] == ("out1.mailprovider.example (out1.mailprovider.example "
                              "[198.51.100.20])")
    assert [(p["index"], p["by"], p["ip"], p["why"]) for p in header["passed"]] == [
        (1, "mx.example.org", "127.0.0.1", "loopback"), (2, "localhost", "127.0.0.1", "loopback")]
    assert out["helo_name"]["value"] == "out1.mailprovider.example"


def test_the_amavis_hop_as_text_names_the_header() -> None:
    proc = spfkit("verify", str(MESSAGES / "amavis.eml"), "--zone", str(EXAMPLE_ZONE),
                  "--no-lint")
    assert proc.returncode == 0, proc.stderr
    for part in ("client IP  198.51.100.20", "from Received: header 3 of 3, past 2 trusted hops",
                 "passed: header 1 (by mx.example.org) from 127.0.0.1: loopback",
                 "passed: header 2 (by localhost) from 127.0.0.1: loopback",
                 "Received: header 3 (by mx.example.org): from", "from the same Received: header",
                 "\nmfrom: pass\n"):
        assert part in proc.stdout, part


def test_without_the_default_the_amavis_hop_gives_the_false_fail() -> None:
    out = verify_json(str(MESSAGES / "amavis.eml"), "--no-lint", "--no-trust-internal")
    assert out["ip"]["value"] == "127.0.0.1" and out["ip"]["header"]["index"] == 1
    assert out["mfrom"]["result"] == "fail"


def test_a_private_relay_is_passed_over() -> None:
    out = verify_json(str(MESSAGES / "private-relay.eml"), "--no-lint")
    assert out["ip"]["value"] == "2001:db8:100::20" and out["mfrom"]["result"] == "pass"
    (passed,) = out["ip"]["header"]["passed"]
    assert (passed["ip"], passed["why"]) == ("10.20.0.5", "private, RFC 1918")
    assert out["ip"]["header"]["by"] == "relay1.corp.example.org"


def test_a_trusted_relay_network_is_passed_over() -> None:
    """Here the message's own first hop is declared a relay of ours: the next one is read."""
    out = verify_json(str(MESSAGES / "forged.eml"), "--no-lint", "--trusted-relay",
                      "203.0.113.64/28", "--trusted-relay", "2001:db8:ffff::/48")
    assert out["ip"]["value"] == "198.51.100.20" and out["mfrom"]["result"] == "pass"
    assert out["ip"]["header"]["passed"][0]["why"] == "trusted relay 203.0.113.64/28"


def test_a_forged_chain_is_not_believed() -> None:
    out = verify_json(str(MESSAGES / "forged.eml"), "--no-lint")
    assert out["ip"]["value"] == "203.0.113.66" and out["ip"]["header"]["index"] == 1
    assert out["mfrom"]["result"] == "fail"
    assert out["helo_name"]["value"] == "out1.mailprovider.example"  # what it claimed


def test_no_received_header_is_a_usage_error_naming_the_option() -> None:
    proc = spfkit("verify", str(MESSAGES / "no-received.eml"), "--zone", str(EXAMPLE_ZONE))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("spfkit: error: no client IP: the message has no Received: "
                                  "header; give --ip IP")
    assert proc.stderr.count("\n") == 1
    out = verify_json(str(MESSAGES / "no-received.eml"), "--ip", "198.51.100.20", "--helo",
                      "out1.mailprovider.example", "--no-lint")
    assert out["mfrom"]["result"] == "pass" and "header" not in out["ip"]


def test_help_documents_the_relay_options() -> None:
    text = spfkit("verify", "--help").stdout
    for part in ("--trusted-relay NET", "--trust-internal / --no-trust-internal",
                 "trusted_networks", "127.0.0.1"):
        assert part in text, part
