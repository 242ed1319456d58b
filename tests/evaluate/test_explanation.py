"""§6.2 "exp": the explanation of a fail, and when the default one is used instead.
"""


from __future__ import annotations

import time
from typing import Any

import pytest

from spfkit.evaluate import DEFAULT_EXPLANATION, CheckOptions
from spfkit.lookup.protocol import RRType
from spfkit.results import Result
from tests.evaluate.common import INCLUDED, Run, spf

# --- §6.2 exp --------------------------------------------------------------------------


def _exp_zone(record: str, exp: Any) -> dict[str, Any]:
    return {"example.com": spf(record), "explain.example.com": exp}


DEFAULT = "example.com does not designate 192.0.2.1 as permitted sender"


def test_default_explanation_text() -> None:
    assert DEFAULT_EXPLANATION == "%{o} does not designate %{c} as permitted sender"


def test_exp_on_fail(run: Run) -> None:
    exp = {"TXT": "%{i} is not one of %{d}'s designated mail servers (%{s})."}
    result, _ = run(_exp_zone("v=spf1 -all exp=explain.example.com", exp))
    assert result.result is Result.FAIL
    assert result.explanation == (
        "192.0.2.1 is not one of example.com's designated mail servers (user@example.com)."
    )


def test_exp_strings_are_joined_and_keep_their_trailing_dot(run: Run) -> None:
    # openspf trailing-dot-exp; §6.2: strings are concatenated with no spaces
    exp = {"TXT": ("This is ", "a test.")}
    result, _ = run(_exp_zone("v=spf1 exp=explain.example.com. -all", exp))
    assert result.explanation == "This is a test."


def test_exp_may_use_c_r_t(run: Run) -> None:
    exp = {"TXT": "%{c} via %{r} at %{t} %{v} %{h} %{p}"}
    started = int(time.time())
    result, _ = run(_exp_zone("v=spf1 -all exp=explain.example.com", exp),
                    ip="::ffff:192.0.2.1", receiver="mx.receiver.example")
    c, _via, r, _at, t, v, h, p = result.explanation.split(" ")  # type: ignore[union-attr]
    assert (c, r, v, h, p) == ("192.0.2.1", "mx.receiver.example", "in-addr", "mail.example.org", "unknown")
    assert started <= int(t) <= int(time.time()) + 1


def test_exp_url_escapes_upper_case_macros(run: Run) -> None:
    # openspf upper-macro
    zone = {
        "e8.example.com": spf("v=spf1 -all exp=msg8.%{D2}"),
        "msg8.example.com": {"TXT": "http://example.com/why.html?l=%{L}"},
    }
    result, _ = run(zone, domain="e8.example.com", sender="~jack&jill=up-a_b3.c@e8.example.com")
    assert result.explanation == "http://example.com/why.html?l=~jack%26jill%3Dup-a_b3.c"


@pytest.mark.parametrize("record", ["v=spf1 ~all exp=explain.example.com",
                                    "v=spf1 ?all exp=explain.example.com",
                                    "v=spf1 +all exp=explain.example.com",
                                    "v=spf1 exp=explain.example.com"])
def test_exp_only_on_fail(run: Run, record: str) -> None:
    result, resolver = run(_exp_zone(record, {"TXT": "nope"}))
    assert result.explanation is None
    assert "explain.example.com" not in [n for _, n in resolver.queries]


@pytest.mark.parametrize(
    ("exp", "why"),
    [
        ("NXDOMAIN", "exp-no-txt"),
        ({"A": "192.0.2.9"}, "no TXT (NODATA)"),
        ({"TXT": ["one", "two"]}, "exp-multiple-txt / two-exp-records"),
        ("TIMEOUT", "exp-dns-error"),
        ({"TXT": "SERVFAIL"}, "SERVFAIL"),
        ({"TXT": "The %{x}-files."}, "explanation-syntax-error"),
        ({"TXT": "100%"}, "a lone %"),
        ({"TXT": [b"\xef\xbb\xbfExplanation"]}, "non-ascii-exp"),
        ({"TXT": [b"bad\x00char"]}, "control character"),
    ],
)
def test_exp_problems_give_the_default_explanation(run: Run, exp: Any, why: str) -> None:
    # §6.2: any DNS error, no record, several records or a syntax error → as if no exp
    result, resolver = run(_exp_zone("v=spf1 -all exp=explain.example.com", exp))
    assert result.result is Result.FAIL, why
    assert result.explanation == DEFAULT, why
    assert result.problem is None
    assert result.void_lookups == 0  # openspf exp-void: exp is never a void lookup
    assert [n for t, n in resolver.queries if t is RRType.TXT].count("explain.example.com") == 1


def test_exp_target_that_cannot_exist_gives_the_default(run: Run) -> None:
    # a 70-octet label cannot be asked for; the lookup fails and exp is ignored (§6.2)
    result, _ = run({"example.com": spf("v=spf1 -all exp=%{l}.example.com")},
                    sender=("x" * 70) + "@example.com")
    assert result.result is Result.FAIL
    assert result.explanation == "example.com does not designate 192.0.2.1 as permitted sender"


def test_exp_target_with_an_empty_label_gives_the_default(run: Run) -> None:
    result, _ = run({"example.com": spf("v=spf1 -all exp=%{h}.example.com")}, helo="")
    assert result.result is Result.FAIL
    assert result.explanation == DEFAULT


def test_custom_default_explanation(run: Run) -> None:
    opts = CheckOptions(default_explanation="See https://example.net/why?ip=%{i}&s=%{S}")
    result, _ = run({"example.com": spf("v=spf1 -all")}, options=opts)
    assert result.explanation == "See https://example.net/why?ip=192.0.2.1&s=user%40example.com"


def test_exp_is_not_taken_from_an_include(run: Run) -> None:
    # openspf include-ignores-exp
    zone = {
        "example.com": spf("v=spf1 include:inc.example -all exp=exp3.example.com"),
        "inc.example": spf("v=spf1 -all exp=exp1.example.com"),
        "exp1.example.com": {"TXT": "No-see-um"},
        "exp3.example.com": {"TXT": "Correct!"},
    }
    result, _ = run(zone)
    assert (result.result, result.explanation) == (Result.FAIL, "Correct!")


def test_redirect_cancels_the_original_exp(run: Run) -> None:
    # openspf redirect-cancels-exp and redirect-cancels-prior-exp
    zone = {
        "example.com": spf("v=spf1 exp=exp1.example.com redirect=target.example"),
        "target.example": spf("v=spf1 -all"),
        "exp1.example.com": {"TXT": "No-see-um"},
    }
    result, _ = run(zone)
    assert result.result is Result.FAIL
    assert result.explanation == DEFAULT
    zone["target.example"] = spf("v=spf1 -all exp=exp2.example.com")
    zone["exp2.example.com"] = {"TXT": "See me at %{d}."}
    result, _ = run(zone)
    assert result.explanation == "See me at target.example."


@pytest.mark.parametrize(
    "record",
    ["v=spf1 include:temperror.example -all exp=explain.example.com",
     "v=spf1 moo -all exp=explain.example.com",
     "v=spf1 include:none.example -all exp=explain.example.com"],
)
def test_no_explanation_on_errors(run: Run, record: str) -> None:
    zone: dict[str, Any] = {**_exp_zone(record, {"TXT": "nope"}), **INCLUDED}
    result, resolver = run(zone)
    assert result.result in (Result.TEMPERROR, Result.PERMERROR)
    assert result.explanation is None
    assert "explain.example.com" not in [n for _, n in resolver.queries]


def test_postmaster_in_explanation_for_a_sender_without_local_part(run: Run) -> None:
    # openspf nolocalpart
    zone = {"example.net": spf("v=spf1 -all exp=exp.example.net"), "exp.example.net": {"TXT": "%{l}"}}
    result, _ = run(zone, domain="example.net", sender="@example.net")
    assert (result.result, result.explanation) == (Result.FAIL, "postmaster")


