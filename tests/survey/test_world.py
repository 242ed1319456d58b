"""A survey of the 100,000-domain world gives the generator's truth, domain by domain and in sum."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.survey.conftest import WORLD_SIZE, FullRun, World


def _expected(t) -> dict[str, object]:
    want: dict[str, object] = {
        "dns": t.dns, "spf": t.spf, "tcp": t.tcp, "dmarc": t.dmarc, "dmarc_dns": t.dmarc_dns,
        "dmarc_p": t.dmarc_p, "dmarc_pct": t.dmarc_pct, "dmarc_rua": t.dmarc_rua,
    }
    if t.spf == "record":
        want.update(all=t.all, redirect=t.redirect, includes=t.includes, result_v4=t.result,
                    result_v6=t.result, lookups_v4=t.lookups, lookups_v6=t.lookups,
                    void_v4=t.void, void_v6=t.void)
    else:
        result = {"none": "none", "dns-error": "temperror"}.get(t.spf, "permerror")  # §4.4-§4.6
        want.update(lookups_v4=None, result_v4=result, result_v6=result, all=None)
    return want


@pytest.mark.timeout(1500)  # the first test pays for the 100,000-domain run (CPU ~1 min)
def test_every_domain_once_with_its_truth(world: World, full_run: FullRun) -> None:
    assert len(full_run.results) == WORLD_SIZE == sum(1 for _ in open(full_run.out))
    wrong: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], tuple[str, object, object]] = {}
    for domain, truth in world.truth.items():
        got = full_run.results[domain]
        for name, value in _expected(truth).items():
            if getattr(got, name) != value:
                wrong[(truth.shape, name)] += 1
                example[(truth.shape, name)] = (domain, getattr(got, name), value)
    assert not wrong, {k: (n, example[k]) for k, n in wrong.items()}
    # the authorised address counts (tests/survey/test_probe.py checks their values by hand):
    # there for every domain with one valid record, and only for those
    counted = {d for d, r in full_run.results.items() if r.pass_ipv4 is not None}
    assert counted == {d for d, t in world.truth.items() if t.spf == "record"}
    assert all(full_run.results[d].pass_ipv6 is not None for d in counted)


def test_the_world_has_every_shape_in_numbers(world: World) -> None:
    shapes = Counter(t.shape for t in world.truth.values())
    assert min(shapes.values()) >= WORLD_SIZE // 250, shapes  # each shape is a real share, not a handful
    assert sum(t.dmarc == "record" for t in world.truth.values()) > WORLD_SIZE * 0.3


def test_timeouts_are_timeouts_not_missing_records(world: World, full_run: FullRun) -> None:
    timed_out = {d for d, t in world.truth.items() if t.dns == "TIMEOUT"}
    assert len(timed_out) > WORLD_SIZE // 200
    for domain in timed_out:
        r = full_run.results[domain]
        assert (r.dns, r.spf, r.dmarc) == ("TIMEOUT", "dns-error", "dns-error"), r
    reported = {d for d, r in full_run.results.items() if r.dns == "TIMEOUT"}
    assert reported == timed_out


def test_large_answers_went_over_tcp(world: World, full_run: FullRun) -> None:
    big = {d for d, t in world.truth.items() if t.tcp}
    assert len(big) > WORLD_SIZE // 100
    assert {d for d, r in full_run.results.items() if r.tcp} == big
    assert big <= full_run.tcp_names  # the server saw each of them asked over TCP


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def test_summary_percentages_equal_the_truth(world: World, full_run: FullRun) -> None:
    truth = list(world.truth.values())
    s = full_run.summary
    n = len(truth)
    errors = sum(t.spf == "dns-error" for t in truth)
    nxdomain = sum(t.dns == "NXDOMAIN" for t in truth)
    measured = n - errors - nxdomain
    publishing = sum(t.spf in ("record", "several", "invalid") for t in truth)
    valid = [t for t in truth if t.spf == "record"]
    assert s["domains"] == n and s["input"]["valid"] == n
    assert s["dns"]["errors"] == errors and s["dns"]["nxdomain"] == nxdomain
    assert s["dns"]["timeouts"] == sum(t.dns == "TIMEOUT" for t in truth)
    assert s["dns"]["timeouts_pct"] == _pct(sum(t.dns == "TIMEOUT" for t in truth), n)
    assert s["spf"]["publishing_pct"] == _pct(publishing, measured)
    assert s["spf"]["valid_pct"] == _pct(len(valid), measured)
    assert s["spf"]["several_pct"] == _pct(sum(t.spf == "several" for t in truth), publishing)
    assert s["spf"]["invalid_pct"] == _pct(sum(t.spf == "invalid" for t in truth), publishing)
    assert s["spf"]["over_10_lookups"] == sum(t.lookups > 10 for t in valid)
    assert s["spf"]["over_10_lookups_pct"] == _pct(sum(t.lookups > 10 for t in valid), len(valid))
    assert s["spf"]["void_over_2_pct"] == _pct(sum(t.void > 2 for t in valid), len(valid))
    for q in "+?~-":
        assert s["spf"]["all"][q]["pct"] == _pct(sum(t.all == q for t in valid), len(valid)), q
    assert s["spf"]["all"]["none"]["count"] == sum(t.all is None for t in valid)
    histogram = Counter(str(t.lookups) for t in valid)
    assert s["spf"]["lookups_histogram"] == dict(sorted(histogram.items(), key=lambda kv: int(kv[0])))
    includes = Counter(i for t in valid for i in t.includes)
    assert {e["include"]: e["count"] for e in s["spf"]["top_includes"]} == dict(includes)
    dmarc_base = n - sum(t.dmarc == "dns-error" for t in truth) - nxdomain
    records = [t for t in truth if t.dmarc == "record"]
    assert s["dmarc"]["records_pct"] == _pct(len(records), dmarc_base)
    for p in ("none", "quarantine", "reject"):
        assert s["dmarc"]["p"][p]["pct"] == _pct(sum(t.dmarc_p == p for t in records), len(records)), p
    assert s["dmarc"]["several"] == sum(t.dmarc == "several" for t in truth)
    assert s["dmarc"]["invalid"] == sum(t.dmarc == "invalid" for t in truth)
    assert s["dmarc"]["rua_pct"] == _pct(sum(bool(t.dmarc_rua) for t in records), len(records))
