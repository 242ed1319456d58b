"""policyd-spf's own configuration file read by ``--config`` and written as TOML by ``--import``.

The expected values come from policyd-spf's documentation (policyd-spf.conf(5) and the
commented sample Debian ships), never from spfkit's output.
"""

from __future__ import annotations

import tomllib
from ipaddress import ip_network
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfkit.identity import Identity
from spfkit.policy.config import (
    ConfigError,
    Format,
    HeaderKind,
    RejectPolicy,
    Verdict,
    load_config,
    parse_config,
)
from spfkit.policy.legacy import detect, to_toml, translate
from spfkit.results import Result

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DEBIAN_CONF = Path("/etc/postfix-policyd-spf-python/policyd-spf.conf")  # scripts/test-all.sh installs it
FIXTURE_CONF = FIXTURES / "policyd-spf.conf"  # a verbatim copy of it (3.0.4-2)
COMMENTED_CONF = FIXTURES / "policyd-spf.conf.commented"  # /usr/share/doc/.../policyd-spf.conf.commented.gz


def write(tmp_path: Path, text: str, name: str = "policyd-spf.conf") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_debian_defaults(path: Path) -> None:
    """What policyd-spf.conf(5) documents for Debian's shipped file (and its defaults)."""
    config = load_config(path)
    assert config.source_format is Format.POLICYD_SPF
    assert config.debuglevel == 1  # "debugLevel = 1"
    assert config.test_only is False  # "TestOnly = 1": test mode needs TestOnly = 0
    assert config.helo_reject is RejectPolicy.FAIL and config.mail_from_reject is RejectPolicy.FAIL
    # "Fail - Reject only on HELO Fail" / "Reject on Mail From Fail"
    for identity in (Identity.HELO, Identity.MAILFROM):
        assert config.verdict(identity, Result.FAIL) is Verdict.REJECT
        for result in (Result.SOFTFAIL, Result.NEUTRAL, Result.NONE, Result.PASS):
            assert config.verdict(identity, result) is Verdict.ACCEPT
        # PermError_reject = False: "Treat PermError the same as no SPF record at all";
        # TempError_Defer = False: "Treat TempError the same as no SPF record at all"
        assert config.verdict(identity, Result.PERMERROR) is Verdict.ACCEPT
        assert config.verdict(identity, Result.TEMPERROR) is Verdict.ACCEPT
    assert set(config.skip_addresses) == {ip_network("127.0.0.0/8"),
                                          ip_network("::ffff:127.0.0.0/104"), ip_network("::1")}
    # documented defaults of what the file leaves out
    assert config.hide_receiver is False  # Hide_Receiver "Default: No"
    assert config.header_type == (HeaderKind.RECEIVED_SPF,)  # Header_Type "Default: SPF"
    assert config.lookup_time == 20  # Lookup_Time "Default 20 (seconds)"
    assert config.void_limit == 2  # Void_Limit "Default 2"
    assert config.whitelist == () and config.helo_whitelist == () and config.domain_whitelist == ()


def test_debians_shipped_file_loads_unchanged() -> None:
    assert DEBIAN_CONF.is_file(), "apt-get install postfix-policyd-spf-python (scripts/test-all.sh)"
    assert_debian_defaults(DEBIAN_CONF)


def test_the_fixture_is_debians_file_and_loads() -> None:
    assert_debian_defaults(FIXTURE_CONF)
    assert FIXTURE_CONF.read_bytes() == DEBIAN_CONF.read_bytes()


def test_debians_commented_sample_loads_with_its_values() -> None:
    config = load_config(COMMENTED_CONF)
    assert config.source_format is Format.POLICYD_SPF
    assert config.hide_receiver is True  # "Hide_Receiver = Yes"
    assert config.authserv_id == "HEADER"  # "Authserv_Id = HEADER", taken as written
    assert config.verdict(Identity.MAILFROM, Result.TEMPERROR) is Verdict.ACCEPT


@pytest.mark.parametrize("path", [FIXTURE_CONF, COMMENTED_CONF])
def test_import_writes_toml_that_loads_to_the_same_configuration(tmp_path: Path, path: Path) -> None:
    text = to_toml(translate(path.read_text()), str(path))
    tomllib.loads(text)
    imported = write(tmp_path, text, "imported.toml")
    assert load_config(imported).source_format is Format.TOML
    assert load_config(imported) == load_config(path)
    assert "TestOnly (line" in text and "the other way round" in text
    assert "# Hide_Receiver" in text or "Hide_Receiver = true" in text


def test_a_file_that_leaves_out_an_option_means_policyd_spfs_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "HELO_reject = SPF_Not_Pass\n"))
    assert config.temperror_defer is False and config.hide_receiver is False
    assert config.verdict(Identity.HELO, Result.NEUTRAL) is Verdict.REJECT
    assert any("TempError_Defer" in note and "default" in note for note in config.notes)
    # the same option in spfkit's TOML keeps spfkit's defaults
    toml = load_config(write(tmp_path, 'HELO_reject = "SPF_Not_Pass"\n', "p.toml"))
    assert toml.temperror_defer is True and toml.hide_receiver is True


@pytest.mark.parametrize(("text", "attribute", "value", "note"), [
    ("TestOnly = 0\n", "test_only", True, "test_only = true"),
    ("TestOnly = 1\n", "test_only", False, "the other way round"),
    # policyd-spf compares with 'True' exactly: 'true' was false there
    ("PermError_reject = true\n", "permerror_reject", False, "only 'True' as true"),
    ("PermError_reject = True\n", "permerror_reject", True, ""),
    ("PermError_reject = banana\n", "permerror_reject", False, "only 'True' as true"),
    ("TempError_Defer = True\n", "temperror_defer", True, ""),
    ("Hide_Receiver = yes\n", "hide_receiver", True, "anything but 'No'"),
    ("Hide_Receiver = No\n", "hide_receiver", False, ""),
    ("Authserv_Id = HOSTNAME\n", "authserv_id", "", "this host's name"),
    ("debugLevel = -1\n", "debuglevel", 0, "log nothing"),
    ("debugLevel = 9\n", "debuglevel", 5, "no more than 5"),
    ("Header_Type = None\n", "header_type", (), ""),
    ("Header_Type = AR\nAuthserv_Id = mx.example.org\n", "header_type",
     (HeaderKind.AUTHENTICATION_RESULTS,), ""),
    ("Whitelist = 192.168.0.0/31,192.168.1.12\n", "whitelist",
     (ip_network("192.168.0.0/31"), ip_network("192.168.1.12/32")), ""),
    ("Reject_Not_Pass_Domains = aol.com,hotmail.com\n", "reject_not_pass_domains",
     ("aol.com", "hotmail.com"), ""),
    ("Domain_Whitelist_PTR = yahoo.com\n", "domain_whitelist_ptr", ("yahoo.com",), ""),
    ("Lookup_Time = 10  # seconds\n", "lookup_time", 10.0, ""),
    ("Whitelist_Lookup_Time = 10\n", "lookup_time", 20.0, "share Lookup_Time"),
    ("Socket = local:/run/pyspf-milter/pyspf-milter.sock\n", "listen", None, "milter front end"),
    ("No_Mail = False\n", "test_only", False, "not applicable"),
    ("SPF_Enhanced_Status_Codes = Yes\n", "test_only", False, "always used"),
    ("Reason_Message = Message {rejectdefer} due to: {spf}. Please see {url}\n", "test_only",
     False, "RFC 7372 codes"),
    ("deadline = 25\n", "deadline", 25.0, ""),  # spfkit's own options are accepted too
])
def test_values_keep_policyd_spfs_meaning(tmp_path: Path, text: str, attribute: str, value: object,
                                          note: str) -> None:
    text = "HELO_reject = Fail\n" + text  # not valid TOML: policyd-spf's format
    config = load_config(write(tmp_path, text))
    assert config.source_format is Format.POLICYD_SPF
    assert getattr(config, attribute) == value
    if note:
        assert any(note in line for line in config.notes), config.notes
        imported = to_toml(translate(text), "x.conf")
        assert note in imported
        assert load_config(write(tmp_path, imported, "x.toml")) == config


@pytest.mark.parametrize(("text", "key", "message"), [
    ("No_Mail = True\n", "No_Mail", "not supported"),
    ("SPF_Enhanced_Status_Codes = No\n", "SPF_Enhanced_Status_Codes", "always answers with RFC 7372"),
    ("Mock = False\n", "Mock", "even False"),
    ("Per_User = text,/etc/postfix-policyd-spf-python/userconf\n", "Per_User", "its own --config"),
    ("Prospective = 192.168.0.4\n", "Prospective", "spfkit check"),
    ("HELO_pass_restriction = helo_passed_spf\n", "HELO_pass_restriction", "after check_policy_service"),
    ("TestOnly = maybe\n", "TestOnly", "expected 1"),
    ("HELO_reject = Sometimes\n", "HELO_reject", "'Sometimes' is not one of"),
    # policyd-spf compares as written: "fail" rejected nothing there
    ("HELO_reject = fail\n", "HELO_reject", "'fail' (not 'Fail') rejects no result"),
    # its MAIL FROM code has no Null branch: Null rejected nothing there
    ("Mail_From_reject = Null\n", "Mail_From_reject", "'Null' is not one of Fail"),
    ("Lookup_Time = 200\n", "Lookup_Time", "less than 100"),
    ("Helo_Rejct = Fail\n", "Helo_Rejct", "did you mean 'HELO_reject'"),
])
def test_an_option_spfkit_cannot_honour_says_what_to_use(tmp_path: Path, text: str, key: str,
                                                         message: str) -> None:
    path = write(tmp_path, "debugLevel = 1\n" + text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == key and caught.value.line == 2
    assert message in caught.value.reason
    assert str(caught.value).startswith(f"{path}:2: {key}: ")


def test_every_mistake_of_a_policyd_spf_file_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "\n".join([
        "# policyd-spf.conf",
        "debugLevel = 1",
        "HELO_reject = Fial",          # 3
        "just some words",             # 4
        "Mail_From_reject = a = b",    # 5
        "Whitelist = 10.0.0.0/33",     # 6
        "HELO_reject = Fail",          # 7: again
        "Per_User = text,/x",          # 8
    ]) + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    found = {(problem.line, problem.key) for problem in caught.value.problems}
    assert found == {(3, "HELO_reject"), (4, None), (5, None), (6, "Whitelist"),
                     (7, "HELO_reject"), (8, "Per_User")}
    lines = str(caught.value).splitlines()
    assert len(lines) == 6 and all(line.startswith(f"{path}:") for line in lines)
    assert any("given twice (first on line 3)" in line for line in lines)
    assert any("more than one '='" in line for line in lines)


def test_every_mistake_of_a_toml_file_at_once_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "\n".join([
        "# spfkit",
        'HELO_reject = "Fial"',        # 2
        "deadline = 10",               # 3
        "Lookup_Time = 20",            # 4: not below deadline
        '"Whitelist" = ["x"]',         # 5
        "debugLevel = '1'",            # 6: fine, a number given as text
        "[actions.helo]",              # 7
        'fail = "bounce"',
    ]) + "\n", "policyd.toml")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    found = {(problem.line, problem.key) for problem in caught.value.problems}
    assert found == {(2, "HELO_reject"), (5, "Whitelist"), (7, "actions"), (4, "Lookup_Time")}


def test_a_toml_syntax_error_gives_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'HELO_reject = "Fail"\nWhitelist = ["a",, "b"]\ndeadline = 3\n',
                 "policyd.toml")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.line == 2
    assert "not valid TOML" in caught.value.reason
    assert str(caught.value).startswith(f"{path}:{caught.value.line}: not valid TOML")


def test_command_line_overrides_have_no_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "debugLevel = 1\n"), {"listen": "somewhere"})
    assert caught.value.key == "listen" and caught.value.line is None


@pytest.mark.parametrize(("text", "expected"), [
    (FIXTURE_CONF.read_text(), Format.POLICYD_SPF),
    ("HELO_reject = Fail\n", Format.POLICYD_SPF),
    ("TestOnly = 1\n", Format.POLICYD_SPF),  # valid TOML, but a policyd-spf name
    ("debugLevel = 1\nTestOnly = 1\n", Format.POLICYD_SPF),
    ('HELO_reject = "Fail"\n', Format.TOML),
    ("debugLevel = 1\nHide_Receiver = false\n", Format.TOML),  # valid TOML, no TestOnly
    ("deadline = 20\n", Format.TOML),
    ("[actions.helo]\nfail = \"reject\"\n", Format.TOML),
    ("HELO_reject = Fail\n[actions.helo]\n", Format.TOML),  # a table: TOML (with a TOML error)
    ("Whitelist = [\"10.0.0.0/8\"]\n", Format.TOML),
    ("", Format.TOML),
    ("this is not toml\n", Format.TOML),
    ("debugLevel = 1\njust words\n", Format.POLICYD_SPF),  # the bad line is its error
])
def test_the_format_is_detected(text: str, expected: Format) -> None:
    assert detect(text) is expected


@settings(deadline=None)  # a loaded machine must not fail it
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_any_text_is_detected_and_translated_without_crashing(text: str) -> None:
    assert detect(text) in (Format.TOML, Format.POLICYD_SPF)
    translation = translate(text)
    for remark in translation.errors + translation.notes:
        assert remark.line >= 0 and "\n" not in remark.text
    try:
        parse_config(translation.data, lines=translation.lines)
    except ConfigError as exc:
        assert exc.problems


def test_a_log_record_gets_every_problem_on_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "HELO_reject = Fial\nMock = True\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert len(str(caught.value).splitlines()) == 2
    assert caught.value.one_line() == "; ".join(str(caught.value).splitlines())


@pytest.mark.parametrize(("line", "why"), [
    ("just some words", "no '='"),
    ("Mail_From_reject = a = b", "more than one '='"),
    ("1st option = Fail", "'1st option' is not an option name"),
])
def test_a_line_that_is_not_name_equals_value_says_why(line: str, why: str) -> None:
    [error] = translate(f"debugLevel = 1\n{line}\n").errors
    assert error.line == 2 and error.text.startswith(f"expected Name = value: {why}")


def test_null_is_a_helo_policy_in_toml_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, 'Mail_From_reject = "Null"\n', "p.toml"))
    assert caught.value.key == "Mail_From_reject" and "HELO_reject value" in caught.value.reason
    assert load_config(write(tmp_path, 'HELO_reject = "Null"\n', "q.toml")).helo_reject.value == "Null"
