"""The stable codes: one table, unique, well-formed, and documented in docs/lint-codes.md."""

from __future__ import annotations

import re
from pathlib import Path

from spfkit.lint.codes import CODES
from spfkit.lint.findings import Severity
from spfkit.lint.tree_rules import TREE_CODES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "lint-codes.md"
_LETTER = {Severity.ERROR: "E", Severity.WARNING: "W", Severity.INFO: "I"}


def test_codes_are_well_formed_and_their_letter_is_their_severity() -> None:
    for code, info in {**CODES, **TREE_CODES}.items():
        assert re.fullmatch(r"SPF-[EWI][1-4]\d\d", code), code
        assert code[4] == _LETTER[info.severity], code
        assert re.fullmatch(r"(7208|4406) §\d+(\.\d+)*(, §\d+(\.\d+)*)*", info.rfc), code


def test_numbers_are_unique_whatever_the_severity() -> None:
    numbers = [code[5:] for code in [*CODES, *TREE_CODES]]
    assert len(numbers) == len(set(numbers))


def test_the_4xx_range_is_left_to_the_tree_rules() -> None:
    assert all(code[5] in "123" for code in CODES)
    assert all(code[5] == "4" for code in TREE_CODES)


def test_docs_list_every_code_as_the_tables_define_it() -> None:
    rows = re.findall(r"^\| `(SPF-\w+)` \| (\w+) \| (.+?) \| (.+?) \|$", DOCS.read_text(), re.M)
    documented = {code: (severity, title.replace("\\|", "|"), rfc)
                  for code, severity, title, rfc in rows}
    expected = {code: (info.severity.value, info.title, info.rfc)
                for code, info in {**CODES, **TREE_CODES}.items()}
    assert documented == expected


def test_docs_state_the_exit_statuses() -> None:
    text = DOCS.read_text()
    assert "`0` no findings above info; `1` warnings but no errors" in text
    assert "`2` errors — and `2` for a usage error" in text
