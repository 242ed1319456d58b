"""The policyd configuration: defaults, every option's parser, clear errors naming the key."""

from __future__ import annotations

import re
from ipaddress import ip_network
from pathlib import Path

import pytest

from spfkit.identity import Identity
from spfkit.policy._options import OPTIONS, UNSUPPORTED
from spfkit.policy.config import (
    ConfigError,
    Fallback,
    HeaderKind,
    ListenAddress,
    PolicyConfig,
    RejectPolicy,
    Verdict,
    load_config,
    parse_config,
    parse_listen,
)
from spfkit.results import Result

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "policyd.md"
EXAMPLE = ROOT / "examples" / "policyd.toml"


def test_defaults() -> None:
    config = load_config(None)
    assert config == PolicyConfig()
    assert config.skip_addresses == (ip_network("127.0.0.0/8"), ip_network("::1/128"))
    assert config.header_type == (HeaderKind.RECEIVED_SPF,)
    assert config.deadline == 30 and config.lookup_time == 20 and config.deadline < 100
    assert config.timeout_action is Fallback.DUNNO and config.error_action is Fallback.DUNNO
    assert config.hide_receiver and config.skip_sasl and not config.test_only


def test_default_actions_follow_rfc7208_section8() -> None:
    config = PolicyConfig()
    for identity in (Identity.HELO, Identity.MAILFROM):
        table = {r: config.verdict(identity, r) for r in Result}
        assert table == {
            Result.FAIL: Verdict.REJECT,
            Result.SOFTFAIL: Verdict.ACCEPT,
            Result.NEUTRAL: Verdict.ACCEPT,
            Result.NONE: Verdict.ACCEPT,
            Result.PASS: Verdict.ACCEPT,
            Result.TEMPERROR: Verdict.DEFER,
            Result.PERMERROR: Verdict.ACCEPT,
        }


@pytest.mark.parametrize(
    ("policy", "rejected"),
    [
        ("Fail", {Result.FAIL}),
        ("Softfail", {Result.FAIL, Result.SOFTFAIL}),
        ("SPF_Not_Pass", {Result.FAIL, Result.SOFTFAIL, Result.NEUTRAL}),
        ("False", set()),
        ("No_Check", set()),
    ],
)
def test_policyd_spf_reject_policies(policy: str, rejected: set[Result]) -> None:
    config = parse_config({"Mail_From_reject": policy, "PermError_reject": "True",
                           "TempError_Defer": "False"})
    got = {r for r in Result if config.verdict(Identity.MAILFROM, r) is Verdict.REJECT}
    quiet = policy in ("False", "No_Check")  # "never reject/defer": permerror not rejected either
    assert got == rejected | (set() if quiet else {Result.PERMERROR})
    assert config.check_mailfrom is (policy != "No_Check")


def test_temperror_defer_off_and_permerror_reject_on() -> None:
    config = parse_config({"TempError_Defer": False, "PermError_reject": True})
    assert config.verdict(Identity.MAILFROM, Result.TEMPERROR) is Verdict.ACCEPT
    assert config.verdict(Identity.HELO, Result.PERMERROR) is Verdict.REJECT


def test_actions_table_overrides_the_policy_options() -> None:
    config = parse_config({"actions": {"mailfrom": {"softfail": "reject", "fail": "defer"},
                                       "HELO": {"fail": "accept"}}})
    assert config.verdict(Identity.MAILFROM, Result.SOFTFAIL) is Verdict.REJECT
    assert config.verdict(Identity.MAILFROM, Result.FAIL) is Verdict.DEFER
    assert config.verdict(Identity.HELO, Result.FAIL) is Verdict.ACCEPT
    assert config.verdict(Identity.HELO, Result.TEMPERROR) is Verdict.DEFER  # untouched


def test_keys_match_without_case_and_lists_may_be_comma_strings() -> None:
    config = parse_config({"helo_REJECT": "spf_not_pass", "WHITELIST": "192.0.2.0/24, 2001:db8::/32",
                           "domain_whitelist": ["Forwarder.Example."], "header_type": "AR"})
    assert config.helo_reject is RejectPolicy.SPF_NOT_PASS
    assert config.whitelist == (ip_network("192.0.2.0/24"), ip_network("2001:db8::/32"))
    assert config.domain_whitelist == ("forwarder.example",)
    assert config.header_type == (HeaderKind.AUTHENTICATION_RESULTS,)


@pytest.mark.parametrize(("value", "kinds"), [
    ("SPF", (HeaderKind.RECEIVED_SPF,)),
    ("received-spf", (HeaderKind.RECEIVED_SPF,)),
    ("both", (HeaderKind.RECEIVED_SPF, HeaderKind.AUTHENTICATION_RESULTS)),
    ("none", ()),
])
def test_header_type(value: str, kinds: tuple[HeaderKind, ...]) -> None:
    assert parse_config({"Header_Type": value}).header_type == kinds


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        ({"HELO_rejct": "Fail"}, "HELO_rejct", "did you mean 'HELO_reject'"),
        ({"nonsense_option": 1}, "nonsense_option", "unknown option"),
        ({"HELO_reject": "Fial"}, "HELO_reject", "'Fial' is not one of Fail, Softfail"),
        ({"TempError_Defer": "maybe"}, "TempError_Defer", "expected true or false"),
        ({"deadline": 100}, "deadline", "less than 100 seconds"),
        ({"deadline": "ten"}, "deadline", "expected a number of seconds"),
        ({"deadline": 0}, "deadline", "more than 0"),
        ({"Lookup_Time": 40}, "Lookup_Time", "less than deadline"),
        ({"skip_addresses": ["127.0.0.1/33"]}, "skip_addresses", "'127.0.0.1/33' is not an IP"),
        ({"Whitelist": 5}, "Whitelist", "expected a list of strings"),
        ({"HELO_Whitelist": ["not a domain"]}, "HELO_Whitelist", "is not a domain name"),
        ({"nameservers": ["ns.example.com"]}, "nameservers", "not an IP address"),
        ({"nameservers": ["127.0.0.1"], "zones": ["x.zone"]}, "zones", "cannot be combined"),
        ({"listen": "localhost:10023"}, "listen", "is not an IP address"),
        ({"listen": "unix:relative/path"}, "listen", "absolute path"),
        ({"listen": "127.0.0.1:99999"}, "listen", "0-65535"),
        ({"socket_mode": "rw"}, "socket_mode", "permission bits"),
        ({"max_connections": 0}, "max_connections", "between 1 and"),
        ({"debugLevel": 9}, "debugLevel", "between 0 and 5"),
        ({"log": "journal"}, "log", "auto, syslog, stderr"),
        ({"syslog_facility": "kern"}, "syslog_facility", "not a syslog facility"),
        ({"actions": {"pra": {}}}, "actions", "unknown identity 'pra'"),
        ({"actions": {"helo": {"failure": "reject"}}}, "actions", "not an SPF result"),
        ({"actions": {"helo": {"fail": "bounce"}}}, "actions", "'bounce' is not one of accept"),
        ({"default_explanation": "%{q}"}, "default_explanation", ""),
        ({"Receiver": "two words"}, "Receiver", "is not a host name"),
        ({"TestOnly": 1}, "TestOnly", "opposite sense"),
        ({"Per_User": "text,/x"}, "Per_User", "not supported"),
        ({"Domain_Whitelist_PTR": "a..b"}, "Domain_Whitelist_PTR", "is not a domain name"),
        ({"Reject_Not_Pass_Domains": ["-x-"]}, "Reject_Not_Pass_Domains", "is not a domain"),
        ({"No_Mail": "True"}, "No_Mail", "not supported"),
        ({"read_timeout": 400}, "read_timeout", "idle_timeout"),
        ({"helo_reject": "Fail", "HELO_reject": "Fail"}, "HELO_reject", "given twice"),
    ],
)
def test_errors_name_the_key(data: dict[str, object], key: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="policyd.toml")
    assert caught.value.key == key
    assert message in caught.value.reason
    assert str(caught.value).startswith(f"policyd.toml: {key}: ")
    assert "\n" not in str(caught.value)


def test_overrides_win_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('zones = ["a.zone"]\ndns_timeout = 3\nlisten = "127.0.0.1:10023"\n')
    config = load_config(path, {"nameservers": ["127.0.0.1:5300"], "zones": [], "dns_timeout": 1.5})
    assert config.nameservers == ("127.0.0.1:5300",) and config.zones == ()
    assert config.dns_timeout == 1.5
    assert config.listen == ListenAddress(host="127.0.0.1", port=10023)
    assert config.source == str(path)


def test_file_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml: cannot read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('HELO_reject = "Fail\n')
    with pytest.raises(ConfigError) as caught:
        load_config(bad)
    assert "not valid TOML" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("spec", "address"), [
    ("127.0.0.1:10023", ListenAddress(host="127.0.0.1", port=10023)),
    ("inet:127.0.0.1:0", ListenAddress(host="127.0.0.1", port=0)),
    ("[::1]:10023", ListenAddress(host="::1", port=10023)),
    ("unix:/run/spfkit/policy", ListenAddress(path="/run/spfkit/policy")),
])
def test_listen_addresses(spec: str, address: ListenAddress) -> None:
    assert parse_listen(spec) == address
    assert parse_listen(str(address)) == address


@pytest.mark.parametrize("spec", ["10023", "::1:10023", "[::1]", "host:1", "unix:x", "1.2.3.4:-1"])
def test_bad_listen_addresses(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_listen(spec)


def test_socket_mode_forms() -> None:
    assert parse_config({"socket_mode": "0660"}).socket_mode == 0o660
    assert parse_config({"socket_mode": 0o600}).socket_mode == 0o600


def test_the_example_file_sets_every_option_and_loads() -> None:
    config = load_config(EXAMPLE)
    text = EXAMPLE.read_text()
    for option in OPTIONS:
        assert re.search(rf"^#? ?\[?{option.key}\b", text, re.MULTILINE), option.key
    assert config.source == str(EXAMPLE)


def test_the_documentation_lists_every_option_and_unsupported_name() -> None:
    text = DOCS.read_text()
    for option in OPTIONS:
        assert f"`{option.key}`" in text, option.key
    for name in ("TestOnly", "Per_User", "No_Mail", "Reason_Message"):
        assert name in text
    assert len(UNSUPPORTED) >= 10


def test_a_zone_file_that_cannot_be_loaded_is_a_config_error_on_zones(tmp_path: Path) -> None:
    from spfkit.policy.service import make_resolver

    bad = tmp_path / "bad.zone"
    bad.write_text("$ORIGIN example.\n@ IN TXT\n")  # a TXT record without its data
    config = parse_config({"zones": [str(bad)]})
    with pytest.raises(ConfigError) as caught:
        make_resolver(config)
    assert caught.value.key == "zones" and "bad.zone" in str(caught.value)
    missing = parse_config({"zones": [str(tmp_path / "missing.zone")]})
    with pytest.raises(ConfigError) as caught:
        make_resolver(missing)
    assert caught.value.key == "zones"
