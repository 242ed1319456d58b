"""``config.toml_key_lines``: each TOML key's line, found in the text (tomllib keeps none)."""

from __future__ import annotations

import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from spfkit.policy.config import toml_key_lines

KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,12}", fullmatch=True).filter(lambda k: k != "actions")
VALUES = st.sampled_from(['"Fail"', "1", "true", '["a", "b"]', "'x'", "2.5", '"a = b"'])
FILLER = st.sampled_from(["", "# a comment", "   ", "# key = 1"])


@settings(deadline=None)  # a loaded machine must not fail it
@given(st.lists(st.tuples(KEYS, VALUES, st.lists(FILLER, max_size=2), st.booleans()),
                min_size=1, max_size=8, unique_by=lambda item: item[0].lower()))
def test_every_top_level_key_gets_its_line(entries: list[tuple[str, str, list[str], bool]]) -> None:
    lines: list[str] = []
    expected: dict[str, int] = {}
    for key, value, filler, quoted in entries:
        lines.extend(filler)
        lines.append(f'{"  " if filler else ""}{f"{chr(34)}{key}{chr(34)}" if quoted else key} = {value}')
        expected[key] = len(lines)
    lines += ["[actions.helo]", 'fail = "reject"', "[actions.mailfrom]"]
    expected["actions"] = len(lines) - 2
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # the generated text is TOML
    assert toml_key_lines(text) == expected


def test_dotted_keys_and_keys_inside_tables() -> None:
    text = 'actions.helo.fail = "reject"\n[actions.mailfrom]\nHELO_reject = "Fail"\n'
    assert toml_key_lines(text) == {"actions": 1}
