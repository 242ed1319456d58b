"""The question flow, driven by a scripted prompter (no terminal), and click's re-asking."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Network, IPv6Network
from typing import TypeVar

import click
import pytest
from click.testing import CliRunner

from spfkit.cli.prompter import ClickPrompter
from spfkit.wizard import AllPolicy, WizardAnswers, build_record, interview
from spfkit.wizard.draft import parse_ip4
from spfkit.wizard.interactive import parse_list

T = TypeVar("T")


class Script:
    """A Prompter that answers from a list; "" takes the default; bad answers are re-asked."""

    def __init__(self, *answers: str | bool) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []
        self.said: list[str] = []
        self.errors: list[str] = []

    def ask(self, question: str, parse: Callable[[str], T], default: str) -> T:
        while True:
            self.asked.append(question)
            answer = self.answers.pop(0)
            assert isinstance(answer, str), (question, answer)
            try:
                return parse(answer or default)
            except ValueError as exc:
                self.errors.append(str(exc))

    def confirm(self, question: str, default: bool) -> bool:
        self.asked.append(question)
        answer = self.answers.pop(0)
        return default if answer == "" else bool(answer)

    def say(self, text: str) -> None:
        self.said.append(text)


def test_enter_everywhere_gives_the_defaults() -> None:
    script = Script(*[""] * 10)
    done = interview("example.net", script)
    assert done.answers == WizardAnswers()
    assert done.mail_hosts == ()
    assert build_record(done.answers).canonical() == "v=spf1 mx ~all"
    assert not script.answers and not script.errors
    assert len(script.asked) == 10


def test_every_answer() -> None:
    script = Script(
        True,
        True,
        "192.0.2.0/24, 198.51.100.7",
        "2001:db8::/48",
        "smtp.other.example",
        "other.example",
        "_spf.provider.example",
        False,
        "-all",
        "mail.example.net",
    )
    done = interview("example.net", script)
    assert done.answers == WizardAnswers(
        mx=True,
        a=True,
        ip4=(IPv4Network("192.0.2.0/24"), IPv4Network("198.51.100.7/32")),
        ip6=(IPv6Network("2001:db8::/48"),),
        a_hosts=("smtp.other.example",),
        mx_domains=("other.example",),
        includes=("_spf.provider.example",),
        ptr=False,
        all_policy=AllPolicy.FAIL,
    )
    assert done.mail_hosts == ("mail.example.net",)


def test_a_bad_answer_is_explained_and_asked_again() -> None:
    script = Script("", "", "300.1.1.1", "192.0.2.1", "", "foo", "", "", "", "", "reject", "", "")
    done = interview("example.net", script)
    assert done.answers.ip4 == (IPv4Network("192.0.2.1/32"),)
    assert script.errors[0].startswith("'300.1.1.1' is not an IPv4 address")
    assert "'foo' is not a domain name" in script.errors[1]
    assert "softfail" in script.errors[2]
    assert script.asked.count("Other IPv4 addresses or networks") == 2


def test_ptr_is_offered_with_the_reason_and_the_all_choice_explained() -> None:
    script = Script(*[""] * 10)
    interview("example.net", script)
    said = "\n".join(script.said)
    assert "§5.5" in said and "SHOULD NOT" in said
    for end in ("-all (fail)", "~all (softfail)", "?all (neutral)", "Recommended: ~all"):
        assert end in said


def test_what_dns_knows_is_shown_and_no_mx_flips_the_default() -> None:
    script = Script(*[""] * 10)
    done = interview("example.net", script, mx_hosts=())
    assert done.answers.mx is False
    assert any("has no MX records" in line for line in script.said)
    script = Script(*[""] * 10)
    interview(
        "example.net", script, mx_hosts=("mail.example.net",), helo_hosts=("mail.example.net",)
    )
    assert any("MX hosts: mail.example.net" in line for line in script.said)
    assert any("get one already: mail.example.net" in line for line in script.said)


def test_options_are_the_defaults() -> None:
    defaults = WizardAnswers(
        mx=False,
        ip4=(IPv4Network("192.0.2.7/32"),),
        includes=("p.example",),
        all_policy=AllPolicy.NEUTRAL,
    )
    done = interview(
        "example.net", Script(*[""] * 10), defaults=defaults, mail_hosts=("m.example.net",)
    )
    assert done.answers == defaults and done.mail_hosts == ("m.example.net",)


def test_parse_list() -> None:
    assert parse_list(parse_ip4)(" 192.0.2.1,192.0.2.2  192.0.2.3 ") == tuple(
        IPv4Network(f"192.0.2.{i}/32") for i in (1, 2, 3)
    )
    assert parse_list(parse_ip4)("") == ()
    with pytest.raises(ValueError, match="'x'"):
        parse_list(parse_ip4)("192.0.2.1 x")


def test_click_prompter_asks_again_on_stderr() -> None:
    @click.command()
    def ask() -> None:
        value = ClickPrompter().ask("IPv4", parse_list(parse_ip4), "")
        click.echo(repr(value))

    result = CliRunner().invoke(ask, input="300.1.1.1\n192.0.2.0/24\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == "(IPv4Network('192.0.2.0/24'),)\n"
    assert "Error: '300.1.1.1' is not an IPv4 address" in result.stderr
    assert result.stderr.count("IPv4 [none]: ") == 2
