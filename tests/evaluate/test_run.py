"""``Frame`` (one check_host() level) and the evaluation state of ``evaluate/run.py``."""

from __future__ import annotations

import pytest

from spfkit.errors import PermError
from spfkit.evaluate.run import Frame, is_within


def test_the_first_frame_is_the_domain_asked_about() -> None:
    frame = Frame("Example.COM.")
    assert (frame.depth, frame.chain, frame.key) == (0, (), "example.com")
    assert not frame.counts_void  # §4.6.4: the initial record lookup is no term's lookup


def test_a_child_frame_is_one_deeper_and_remembers_the_path() -> None:
    inner = Frame("example.com").child("_spf.Example.net").child("c.example")
    assert (inner.domain, inner.depth) == ("c.example", 2)
    assert inner.chain == ("example.com", "_spf.example.net")
    assert inner.counts_void


def test_a_domain_met_again_on_its_own_path_is_a_loop() -> None:
    frame = Frame("a.example").child("b.example").child("A.example.")
    with pytest.raises(PermError, match="loop: a.example -> b.example -> a.example"):
        frame.check_loop()


def test_the_same_domain_on_two_branches_is_no_loop() -> None:
    root = Frame("a.example")
    root.child("b.example").check_loop()
    root.child("c.example").child("b.example").check_loop()


@pytest.mark.parametrize(
    ("name", "domain", "within"),
    [("mail.example.com", "example.com", True), ("EXAMPLE.com.", "example.com", True),
     ("badexample.com", "example.com", False), ("example.com", "mail.example.com", False)],
)
def test_is_within(name: str, domain: str, within: bool) -> None:
    assert is_within(name, domain) is within
