"""The [milter] table: parsed, checked, and invisible to policyd."""

from __future__ import annotations

import pytest

from spfkit.milter.config import (
    MilterSocket,
    NoPRA,
    RejectStage,
    libmilter_socket,
    load_milter_config,
    parse_milter_config,
    parse_milter_socket,
    postfix_socket,
)
from spfkit.policy.config import ConfigError, RejectPolicy, Verdict, parse_config
from spfkit.results import Result


@pytest.mark.parametrize(("spec", "libmilter", "postfix"), [
    ("inet:127.0.0.1:8894", "inet:8894@127.0.0.1", "inet:127.0.0.1:8894"),
    ("inet:8894@127.0.0.1", "inet:8894@127.0.0.1", "inet:127.0.0.1:8894"),
    ("127.0.0.1:8894", "inet:8894@127.0.0.1", "inet:127.0.0.1:8894"),
    ("inet6:[::1]:8894", "inet6:8894@::1", "inet:[::1]:8894"),
    ("unix:/run/spfkit/milter.sock", "unix:/run/spfkit/milter.sock", "unix:/run/spfkit/milter.sock"),
])
def test_socket_spellings(spec: str, libmilter: str, postfix: str) -> None:
    sock = parse_milter_socket(spec)
    assert libmilter_socket(sock) == libmilter and postfix_socket(sock) == postfix


@pytest.mark.parametrize("spec", ["unix:relative.sock", "inet:host", "inet:host:0",
                                  "inet:host:70000", "", "inet::25"])
def test_bad_sockets(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_milter_socket(spec)


def test_defaults() -> None:
    config = parse_milter_config({})
    assert config.listen is None and config.check_pra and config.remove_forged
    assert config.pra_reject is RejectPolicy.FALSE and config.no_pra is NoPRA.ACCEPT
    assert config.reject_stage is RejectStage.RCPT
    assert all(config.pra_verdict(result) is Verdict.ACCEPT for result in Result)


def test_shared_and_own_options() -> None:
    config = parse_milter_config({
        "Mail_From_reject": "Softfail", "TempError_Defer": True, "test_only": True,
        "milter": {"listen": "unix:/tmp/m.sock", "pra_reject": "softfail",
                   "pra_actions": {"neutral": "defer"}, "no_pra": "reject",
                   "reject_stage": "MAIL", "control_socket": "/tmp/c.sock"},
    }, source="m.toml")
    assert config.policy.mail_from_reject is RejectPolicy.SOFTFAIL and config.test_only
    assert config.listen == MilterSocket(path="/tmp/m.sock")
    assert config.pra_verdict(Result.FAIL) is Verdict.REJECT
    assert config.pra_verdict(Result.SOFTFAIL) is Verdict.REJECT
    assert config.pra_verdict(Result.NEUTRAL) is Verdict.DEFER  # pra_actions wins
    assert config.pra_verdict(Result.TEMPERROR) is Verdict.DEFER  # TempError_Defer
    assert config.pra_verdict(Result.PASS) is Verdict.ACCEPT
    assert config.no_pra is NoPRA.REJECT and config.reject_stage is RejectStage.MAIL


@pytest.mark.parametrize(("table", "key", "reason"), [
    ({"pra_rejekt": "Fail"}, "milter.pra_rejekt", "unknown option of [milter]"),
    ({"pra_reject": "Fial"}, "milter.pra_reject", "is not one of"),
    ({"pra_reject": "Null"}, "milter.pra_reject", "Null is for HELO_reject only"),
    ({"check_pra": "yes"}, "milter.check_pra", "expected true or false"),
    ({"listen": "inet:nowhere"}, "milter.listen", "expected unix:/path"),
    ({"control_socket": "relative"}, "milter.control_socket", "absolute path"),
    ({"pra_actions": {"bogus": "reject"}}, "milter.pra_actions", "not a Sender ID result"),
    ({"milter_timeout": 0}, "milter.milter_timeout", "whole number"),
])
def test_mistakes_name_file_and_key(table: dict, key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_milter_config({"milter": table}, source="m.toml")
    assert caught.value.key == key and caught.value.source == "m.toml"
    assert reason in caught.value.reason


def test_policyd_reads_the_same_file_and_ignores_the_milter_table() -> None:
    config = parse_config({"HELO_reject": "Fail", "milter": {"pra_reject": "Fail"}})
    assert config.helo_reject is RejectPolicy.FAIL


def test_a_policy_mistake_is_still_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_milter_config({"HELO_rejct": "Fail", "milter": {}})
    assert caught.value.key == "HELO_rejct"


def test_load_file(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('Receiver = "mx.example"\n[milter]\nlisten = "inet:127.0.0.1:8894"\n')
    config = load_milter_config(path, milter_overrides={"listen": "unix:/tmp/x.sock"})
    assert config.policy.receiver == "mx.example" and config.listen == MilterSocket(path="/tmp/x.sock")
    path.write_text("[milter\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_milter_config(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_milter_config(tmp_path / "missing.toml")


def test_every_toml_example_in_the_milter_docs_loads(tmp_path) -> None:
    """An operator copies docs/milter.md's configuration: it must pass --check-config's
    loader as written (the sockets aside)."""
    import re
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs" / "milter.md"
    blocks = re.findall(r"```toml\n(.*?)```", docs.read_text(), re.DOTALL)
    assert blocks
    for number, block in enumerate(blocks):
        path = tmp_path / f"example{number}.toml"
        path.write_text(block)
        config = load_milter_config(path)
        assert config.policy.deadline > config.policy.lookup_time
