"""RFC 4407 §2: every step of the PRA algorithm, and the header combinations around it.

Messages are written top to bottom as they arrive: the most recent trace and resent fields
on top (RFC 5322 §3.6.6, §3.6.7).
"""

from __future__ import annotations

from email import message_from_string, policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfkit.senderid import PRAResult, find_pra, header_fields, parse_mailbox_list


def msg(*fields: str, body: str = "body\n") -> str:
    return "\r\n".join(fields) + "\r\n\r\n" + body


def found(result: PRAResult, address: str, header: str) -> None:
    assert (result.address, result.header, result.reason, result.step) == (address, header, None, 5)


def none(result: PRAResult, *words: str) -> None:
    assert result.address is None and result.header is None and result.step == 6
    assert result.reason is not None
    for word in words:
        assert word in result.reason, result.reason


# -- step 4: From alone -------------------------------------------------------------------


def test_from_alone() -> None:
    found(find_pra(msg("From: Alice <alice@example.com>", "To: bob@example.org")),
          "alice@example.com", "From")


def test_no_header_at_all_names_step_4() -> None:
    none(find_pra(msg("To: bob@example.org", "Subject: x")), "no From:", "step 4")


def test_two_from_headers_are_step_6() -> None:
    none(find_pra(msg("From: a@example.com", "From: b@example.com")), "2 From:", "step 4")


def test_empty_from_is_as_if_absent() -> None:
    result = find_pra(msg("From:   ", "From: b@example.com"))
    found(result, "b@example.com", "From")
    assert any("empty From:" in p for p in result.problems)


def test_only_an_empty_from() -> None:
    result = find_pra(msg("From: \t", "To: x@example.org"))
    none(result, "no From:")
    assert result.problems


# -- step 3: Sender ----------------------------------------------------------------------


def test_sender_wins_over_from() -> None:
    found(find_pra(msg("From: a@example.com, b@example.com", "Sender: sec@example.com")),
          "sec@example.com", "Sender")


def test_two_senders_are_step_6_even_with_a_good_from() -> None:
    none(find_pra(msg("Sender: s1@example.com", "Sender: s2@example.com", "From: a@example.com")),
         "2 Sender:", "step 3")


def test_empty_sender_is_ignored_and_from_used() -> None:
    result = find_pra(msg("Sender:", "From: a@example.com"))
    found(result, "a@example.com", "From")
    assert any("empty Sender:" in p for p in result.problems)


def test_one_empty_one_real_sender_counts_as_one() -> None:
    found(find_pra(msg("Sender:  ", "Sender: s@example.com", "From: a@example.com")),
          "s@example.com", "Sender")


# -- steps 1 and 2: resent blocks --------------------------------------------------------


def test_resent_sender_wins() -> None:
    found(find_pra(msg("Resent-Sender: rs@relay.example", "Resent-From: rf@relay.example",
                       "Sender: s@example.com", "From: a@example.com")),
          "rs@relay.example", "Resent-Sender")


def test_resent_sender_after_its_own_resent_from_in_the_same_block() -> None:
    # No trace field between them: the same block, so step 1 takes the Resent-Sender.
    found(find_pra(msg("Resent-From: rf@relay.example", "Resent-Sender: rs@relay.example",
                       "Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000", "From: a@example.com")),
          "rs@relay.example", "Resent-Sender")


@pytest.mark.parametrize("trace", ["Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000",
                                   "Return-Path: <bounce@example.net>"])
def test_resent_sender_of_an_older_block_is_passed_over(trace: str) -> None:
    # Step 1: a Received/Return-Path between the Resent-From and the Resent-Sender means the
    # Resent-Sender belongs to an older resent block; step 2 takes the newer Resent-From.
    result = find_pra(msg("Resent-From: new@forwarder.example", trace,
                          "Resent-Sender: old@relay.example", "From: a@example.com"))
    found(result, "new@forwarder.example", "Resent-From")
    assert any("older resent block" in p and "step 1" in p for p in result.problems)


def test_trace_field_above_both_does_not_matter() -> None:
    found(find_pra(msg("Received: from x by y; date", "Resent-From: rf@a.example",
                       "Resent-Sender: rs@a.example", "From: a@example.com")),
          "rs@a.example", "Resent-Sender")


def test_trace_field_before_the_resent_from_does_not_count() -> None:
    # The Received lies above the Resent-From, not between it and the Resent-Sender.
    found(find_pra(msg("Resent-Sender: rs@a.example", "Received: from x by y; date",
                       "Resent-From: rf@b.example", "From: a@example.com")),
          "rs@a.example", "Resent-Sender")


def test_resent_from_alone() -> None:
    found(find_pra(msg("Resent-From: rf@forwarder.example", "Sender: s@example.com",
                       "From: a@example.com")), "rf@forwarder.example", "Resent-From")


def test_first_of_several_resent_blocks_is_used() -> None:
    found(find_pra(msg("Resent-From: newest@b.example", "Received: from x by y; date",
                       "Resent-From: older@a.example", "From: a@example.com")),
          "newest@b.example", "Resent-From")


def test_first_non_empty_resent_sender_is_used() -> None:
    result = find_pra(msg("Resent-Sender: ", "Resent-Sender: second@a.example",
                          "From: a@example.com"))
    found(result, "second@a.example", "Resent-Sender")
    assert any("empty Resent-Sender:" in p for p in result.problems)


def test_malformed_resent_sender_does_not_fall_back() -> None:
    # Step 1 "proceed to step 5"; step 5 "continue with step 6": no fall-back to From.
    none(find_pra(msg("Resent-Sender: not an address", "From: a@example.com")),
         "Resent-Sender:", "step 5")


def test_resent_from_with_two_mailboxes_is_step_6() -> None:
    none(find_pra(msg("Resent-From: a@x.example, b@y.example", "From: a@example.com")),
         "Resent-From:", "2 mailboxes")


def test_resent_block_without_sender_or_from_falls_through_to_sender() -> None:
    found(find_pra(msg("Resent-To: x@example.org", "Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000",
                       "Sender: s@example.com", "From: a@example.com")),
          "s@example.com", "Sender")


def test_header_names_are_case_insensitive() -> None:
    found(find_pra(msg("RESENT-sender: rs@a.example", "from: a@example.com")),
          "rs@a.example", "Resent-Sender")


# -- step 5: the selected header ------------------------------------------------------------


@pytest.mark.parametrize(("value", "address"), [
    ("alice@example.com", "alice@example.com"),
    ("Alice <alice@example.com>", "alice@example.com"),
    ('"Smith, John" <john@example.com>', "john@example.com"),
    ("Alice (the boss) <alice@example.com> (work)", "alice@example.com"),
    ('"john doe"@example.com', '"john doe"@example.com'),
    ('john."q"@example.com', 'john."q"@example.com'),
    ("=?utf-8?q?J=C3=B6rg?= <joerg@example.de>", "joerg@example.de"),
    ("Jörg <jörg@bücher.example>", "jörg@bücher.example"),  # RFC 6532
    ("<@relay.example:alice@example.com>", "alice@example.com"),  # obs-route
    ("alice@example.com,", "alice@example.com"),  # obs-mbox-list: empty element
    ("Team: alice@example.com;", "alice@example.com"),  # a group around one mailbox
    ("Dr. Who <who@tardis.example>", "who@tardis.example"),  # obs-phrase
    ("alice@localhost", "alice@localhost"),  # a domain name, if a single label
])
def test_usable_mailboxes(value: str, address: str) -> None:
    result = find_pra(msg(f"From: {value}"))
    found(result, address, "From")


@pytest.mark.parametrize(("value", "why"), [
    ("a@example.com, b@example.com", "2 mailboxes"),
    ("Team: a@example.com, b@example.com;", "2 mailboxes"),
    ("undisclosed-recipients:;", "no mailbox"),
    ("alice", "no domain"),
    ("Alice Example", "no domain"),
    ("alice@", "no domain name after"),
    ("@example.com", "empty local-part"),
    ("alice@[192.0.2.1]", "address literal"),
    ("<alice@example.com", "angle brackets"),
    ("alice@example.com>", "angle brackets"),
    ("<>", "empty address"),
    ('"alice@example.com', "quoted-string"),
    ("alice@example.com (unclosed", "comment"),
    ("alice@exa mple.com", "not a domain name"),
    ("alice@example..com", "not a domain name"),
    ("alice@-example.com", "not a domain name"),
    ("a@example.com b@example.com", "more than one '@'"),
    ("alice smith@example.com", "local-part"),
    ("Alice <alice@example.com> trailing", "after the angle-addr"),
])
def test_hopelessly_malformed_or_multiple(value: str, why: str) -> None:
    result = find_pra(msg(f"From: {value}"))
    none(result, "From:", why)


def test_a_malformed_sender_does_not_fall_back_to_from() -> None:
    none(find_pra(msg("Sender: nobody", "From: a@example.com")), "Sender:")


def test_group_is_noted() -> None:
    result = find_pra(msg("From: Team: alice@example.com;"))
    assert any("group syntax" in p for p in result.problems)


def test_reason_quotes_the_value_safely() -> None:
    result = find_pra(msg("From: a@x.example, \x1b[31mb@y.example"))
    assert result.reason is not None and "\x1b" not in result.reason


# -- input forms ----------------------------------------------------------------------------


def test_bytes_str_and_message_agree() -> None:
    text = msg("Received: from a by b; date", "Sender: s@example.com", "From: f@example.com")
    expected = find_pra(text)
    assert find_pra(text.encode()) == expected
    assert find_pra(message_from_string(text)) == expected
    assert find_pra(message_from_string(text, policy=policy.default)) == expected


def test_email_message_built_in_code() -> None:
    m = EmailMessage()
    m["From"] = "Alice <alice@example.com>"
    m.set_content("hi")
    found(find_pra(m), "alice@example.com", "From")


def test_folded_header_is_unfolded() -> None:
    found(find_pra("From: Alice\r\n <alice@example.com>\r\n\r\n"), "alice@example.com", "From")


def test_mbox_from_line_is_not_a_header() -> None:
    text = "From alice@example.com Mon Jan  1 00:00:00 2024\nFrom: a@example.com\n\nbody\n"
    found(find_pra(text), "a@example.com", "From")


def test_body_is_not_read() -> None:
    found(find_pra("From: a@example.com\n\nFrom: b@example.com\n"), "a@example.com", "From")


def test_non_utf8_bytes_do_not_break_it() -> None:
    result = find_pra(b"From: \xff\xfe <a@example.com>\r\n\r\n")
    found(result, "a@example.com", "From")
    none(find_pra(b"From: a@ex\xffample.com\r\n\r\n"), "not a domain name")
    none(find_pra(b"From: \xffa@example.com\r\n\r\n"), "not UTF-8")


def test_header_fields_keep_order_and_names() -> None:
    fields = header_fields("B: 1\nA: 2\n b\nB: 3\n\n")
    assert fields == [("B", "1"), ("A", "2 b"), ("B", "3")]


def test_domain_property() -> None:
    assert find_pra(msg("From: a@Example.COM")).domain == "Example.COM"
    assert find_pra(msg("To: x@y.z")).domain is None


# -- never raises ---------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(list('ab@.<>,;:"()[]\\ \t-=?') + ["x@y.example", "\x00", "é",
                                                                   "\udcff"]),
               max_size=40).map("".join))
def test_any_from_value_gives_a_result(value: str) -> None:
    result = find_pra("From: " + value.replace("\n", " ") + "\n\n")
    assert (result.address is None) == (result.reason is not None)
    if result.address is not None:
        assert "@" in result.address
    assert parse_mailbox_list(value) is not None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["From", "Sender", "Resent-From", "Resent-Sender",
                                           "Received", "Return-Path", "To"]),
                          st.sampled_from(["", " ", "a@a.example", "b@b.example", "x",
                                           "a@a.example, b@b.example"])), max_size=8))
def test_any_header_combination_gives_a_result(fields: list[tuple[str, str]]) -> None:
    from spfkit.senderid import pra_from_fields

    result = pra_from_fields(fields)
    assert (result.address is None) == (result.reason is not None)
    if result.header is not None:
        # the PRA comes from a non-empty field of that name
        assert any(n == result.header and v.strip() for n, v in fields)
