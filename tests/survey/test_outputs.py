"""Outputs: JSONL, CSV and Parquet hold the same fields and read back equal; repair; the HTML report."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfkit.survey.report import render_report, render_stats_report
from spfkit.survey.result import FIELDS, DomainResult
from spfkit.survey.summary import summarise
from spfkit.survey.writers import open_writer, read_results, repair

# text fields are None or non-empty (the probe writes None, never "": CSV has one empty cell for both)
_text = st.none() | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)
_results = st.builds(
    DomainResult, domain=st.from_regex(r"[a-z]{1,8}\.example", fullmatch=True),
    dns=st.sampled_from(["NOERROR", "NODATA", "NXDOMAIN", "TIMEOUT", "SERVFAIL"]),
    spf=st.sampled_from(["none", "record", "several", "invalid", "dns-error"]),
    spf_record=_text, spf_error=_text, all=st.sampled_from([None, "+", "-", "~", "?"]),
    includes=st.lists(st.from_regex(r"[a-z]{1,6}\.example", fullmatch=True), max_size=3).map(tuple),
    lookups_v4=st.none() | st.integers(0, 40), void_v4=st.none() | st.integers(0, 5),
    lint=st.lists(st.sampled_from(["SPF-E101", "SPF-W203"]), max_size=2, unique=True).map(tuple),
    tcp=st.booleans(), dmarc=st.sampled_from(["none", "record", "invalid"]),
    dmarc_pct=st.none() | st.integers(0, 100), dmarc_rua=st.none() | st.booleans(),
)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
@settings(max_examples=25, deadline=None)
@given(rows=st.lists(_results, max_size=8))
def test_every_format_reads_back_equal(tmp_path_factory: pytest.TempPathFactory, suffix: str,
                                       rows: list[DomainResult]) -> None:
    path = tmp_path_factory.mktemp("out") / f"results{suffix}"
    writer = open_writer(path)
    for row in rows:
        writer.write(row)
    writer.close()
    assert list(read_results(path)) == rows


def test_csv_and_parquet_columns_are_the_jsonl_fields(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    row = DomainResult("a.example", "NOERROR", "record", includes=("x.example",), lint=("SPF-E101",))
    for suffix in (".csv", ".parquet"):
        writer = open_writer(tmp_path / f"r{suffix}")
        writer.write(row)
        writer.close()
    assert (tmp_path / "r.csv").read_text().splitlines()[0].split(",") == list(FIELDS)
    assert pq.read_schema(tmp_path / "r.parquet").names == list(FIELDS)


def test_repair_drops_a_cut_last_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    writer = open_writer(path)
    writer.write(DomainResult("a.example", "NOERROR", "none"))
    writer.close()
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"domain":"b.exa')
    assert repair(path) == len(b'{"domain":"b.exa') and path.read_bytes() == whole
    assert repair(path) == 0


def test_report_is_one_file_of_svg_charts_with_hostile_names_escaped() -> None:
    rows = [DomainResult(f"d{i}.example", "NOERROR", "record", all="-", lookups_v4=i % 13, void_v4=0,
                         includes=("<script>alert(1)</script>.example",), dmarc="record", dmarc_p="reject")
            for i in range(30)]
    html = render_report(summarise(rows).as_dict())
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<svg") == 6 and "http" not in html.replace("http://www.w3.org/2000/svg", "")
    for svg in html.split("<svg")[1:]:
        ElementTree.fromstring("<svg" + svg.split("</svg>")[0] + "</svg>")  # well-formed SVG
    stats_html = render_stats_report({"identities": {"mailfrom": {"total": 2, "results": {
        "pass": {"count": 2, "pct": 100.0}}}}, "per_day": {"2026-12-01": {"pass": 2}},
        "top_failing_domains": [{"domain": "<b>.example", "count": 1}]})
    assert "<b>.example" not in stats_html and stats_html.count("<svg") == 3
