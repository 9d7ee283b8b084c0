"""Fitting samples to the scenario's families (``sim.calibrate.fit``), the family each
input takes, and overlays through ``--set @FILE`` (``sim.scenario.overlay``)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from sim.calibrate.fit import fit_sample
from sim.calibrate.run import family_of
from sim.errors import ScenarioError
from sim.results.writer import digest_of
from sim.scenario.loader import load_default


def test_a_lognormal_fit_covers_its_parameters_and_passes_ks():
    rng = np.random.default_rng(1)
    fit = fit_sample(list(90.0 * np.exp(0.3 * rng.standard_normal(500))), "lognormal")
    low, high = fit.intervals["median"]
    assert low <= 90.0 <= high and fit.n == 500 and fit.ks_pvalue > 0.05


def test_an_exponential_sample_is_refused_by_ks_as_a_uniform():
    """KS flags a family that does not fit."""
    rng = np.random.default_rng(2)
    fit = fit_sample(list(rng.exponential(60.0, 500)), "uniform")
    assert fit.ks_pvalue < 0.01


def test_an_exponential_fit_recovers_its_mean():
    rng = np.random.default_rng(3)
    fit = fit_sample(list(rng.exponential(60.0, 800)), "exponential")
    low, high = fit.intervals["mean"]
    assert low <= 60.0 <= high


def test_a_fit_with_no_test_reports_none_not_a_perfect_score():
    """A fixed value (or a uniform of equal values) is not tested, and a fixed value or a
    uniform's extremes get no confidence interval: none is reported (not D=0, p=1, and
    not the quartiles or (low, low) labelled a 95 % interval)."""
    from sim.calibrate.overlay import _comment, _record
    from sim.calibrate.sources import Sample

    for family, values in (("fixed", [30.0, 40.0, 50.0, 60.0]), ("uniform", [5.0, 5.0, 5.0])):
        fit = fit_sample(values, family)
        assert (fit.ks_statistic, fit.ks_pvalue, fit.intervals) == (None, None, {}), family
    spread = fit_sample([30.0, 40.0, 50.0, 60.0], "uniform")  # tested, but no interval
    assert spread.ks_pvalue is not None and spread.intervals == {}
    fixed = fit_sample([30.0, 40.0, 50.0, 60.0], "fixed")
    assert fixed.spec == {"dist": "fixed", "value": 45.0}
    sample = Sample("world.build_time", "Vercel", [30.0, 40.0, 50.0, 60.0],
                    [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3, 4)])
    assert "KS" not in _comment(sample, fixed) and "CI" not in _comment(sample, fixed)
    record = _record(sample, fixed)
    assert (record["ks_statistic"], record["ks_pvalue"], record["interval"]) == (None,) * 3
    assert fit_sample([30.0, 40.0, 50.0, 60.0], "lognormal").ks_pvalue is not None


def test_fit_refuses_an_unknown_family_and_a_single_sample():
    with pytest.raises(ValueError, match="unknown family"):
        fit_sample([1.0, 2.0], "gamma")
    with pytest.raises(ValueError, match="at least 2"):
        fit_sample([1.0], "lognormal")


def test_each_input_is_fitted_to_the_family_the_scenario_gives_it():
    assert family_of(None, "responder.investigation_time") == "uniform"
    assert family_of(None, "world.build_time") == "lognormal"
    exp = load_default(["world.build_time={dist: exponential, mean: 60}"])
    assert family_of(exp, "world.build_time") == "exponential"


def test_an_overlay_sets_values_and_merges_its_calibration(tmp_path):
    overlay = tmp_path / "o.yaml"
    overlay.write_text(
        "world.build_time: {dist: lognormal, median: 80, sigma: 0.2}  # Vercel …\n"
        "calibration:\n  - {field: world.build_time, source: \"Vercel GET /v6/deployments\","
        " n: 40, first: \"2026-01-01T00:00:00Z\", last: \"2026-02-01T00:00:00Z\","
        " family: lognormal, ks_statistic: 0.05, ks_pvalue: 0.9}\n")
    plain = load_default()
    calibrated = load_default([f"@{overlay}"])
    assert calibrated.world.build_time.median == 80.0
    assert calibrated.calibration[0].n == 40
    # Provenance simulates nothing: only the value it set moves the digest.
    same_value = load_default(["world.build_time={dist: lognormal, median: 80, sigma: 0.2}"])
    assert digest_of(calibrated) == digest_of(same_value) != digest_of(plain)


def test_a_hand_set_after_the_overlay_is_not_reported_as_calibrated(tmp_path):
    """A ``--set`` that changes a calibrated input after the overlay (the input, a part of
    it, or the section holding it) drops that input's provenance: the report names the
    value as stated, never as calibrated; inputs it does not touch keep theirs, and an
    overlay applied after the hand's value wins again."""
    from sim.results.inputs import inputs_section

    overlay = tmp_path / "o.yaml"
    overlay.write_text(
        "world.build_time: {dist: lognormal, median: 80, sigma: 0.2}\n"
        "incident.ack_delay: {dist: lognormal, median: 200, sigma: 0.5}\n"
        "calibration:\n"
        + "".join(f"  - {{field: {f}, source: x, n: 40, first: \"2026-01-01T00:00:00Z\","
                  " last: \"2026-02-01T00:00:00Z\", family: lognormal, ks_statistic: 0.05,"
                  " ks_pvalue: 0.9}\n" for f in ("world.build_time", "incident.ack_delay")))
    for hand in ("world.build_time={dist: fixed, value: 30}", "world.build_time.median=30",
                 "world={build_time: {dist: fixed, value: 30}}"):
        section = inputs_section(load_default([f"@{overlay}", hand]))
        assert section is not None
        assert "world.build_time" not in section["calibrated"], hand
        assert "world.build_time" in section["stated"], hand
        assert "incident.ack_delay" in section["calibrated"], hand
    again = inputs_section(load_default(["world.build_time.median=30", f"@{overlay}"]))
    assert again is not None and "world.build_time" in again["calibrated"]


def test_an_overlay_naming_an_unknown_input_is_refused_naming_the_field(tmp_path):
    overlay = tmp_path / "o.yaml"
    overlay.write_text("calibration:\n  - {field: world.nope, source: x, n: 3,"
                       " first: \"2026-01-01T00:00:00Z\", last: \"2026-01-02T00:00:00Z\","
                       " family: lognormal, ks_statistic: 0.1, ks_pvalue: 0.5}\n")
    with pytest.raises(ScenarioError, match="not a timing input"):
        load_default([f"@{overlay}"])


def test_a_missing_overlay_file_is_one_clear_error(tmp_path):
    with pytest.raises(ScenarioError, match="no such overlay file"):
        load_default([f"@{tmp_path / 'absent.yaml'}"])


def test_sentry_rules_follow_the_cursor_link_while_results_is_true():
    """Sentry's pagination: ``rel="next"`` with ``results="true"`` means another page."""
    import httpx

    from sim.calibrate.sentry import sentry_rules
    from sim.calibrate.sources import Api

    def page(request: httpx.Request) -> httpx.Response:
        second = request.url.params.get("cursor") == "0:100:0"
        nxt = "http://s/api/0/organizations/o/alert-rules/?cursor=0%3A100%3A0"
        link = f'<{nxt}>; rel="next"; results="{"false" if second else "true"}"; cursor="0:100:0"'
        return httpx.Response(200, json=[{"name": "b" if second else "a"}],
                              headers={"Link": link})

    with httpx.Client(transport=httpx.MockTransport(page)) as client:
        rules = sentry_rules(Api("sentry", "http://s", "Bearer t", client), "o")
    assert [r["name"] for r in rules] == ["a", "b"]


def test_the_lognormal_intervals_cover_the_truth_about_95_percent_of_the_time():
    """Over 400 samples of 100, each 95 % interval holds the true parameter in 90–99 %
    of them: 'within the interval' is a test that can fail, at the stated rate."""
    rng = np.random.default_rng(9)
    hits = {"median": 0, "sigma": 0}
    for _ in range(400):
        fit = fit_sample(list(120.0 * np.exp(0.5 * rng.standard_normal(100))), "lognormal")
        for name, truth in (("median", 120.0), ("sigma", 0.5)):
            low, high = fit.intervals[name]
            hits[name] += low <= truth <= high
    assert all(0.90 <= h / 400 <= 0.99 for h in hits.values()), hits


def test_both_platforms_read_need_a_pick_and_the_pick_keeps_its_builds():
    from sim.calibrate.run import _one_platform
    from sim.calibrate.sources import Sample
    from sim.errors import BadInput

    both = [Sample("world.build_time", "Vercel GET /v6/deployments"),
            Sample("world.build_time", "Netlify GET /sites/{site_id}/deploys"),
            Sample("incident.ack_delay", "PagerDuty GET /incidents")]
    with pytest.raises(BadInput, match="--platform"):
        _one_platform(both, None)
    kept = _one_platform(both, "netlify")
    assert [s.source.split()[0] for s in kept] == ["Netlify", "PagerDuty"]


def test_a_pagerduty_window_past_10000_records_is_read_in_halves_each_record_once():
    """Classic pagination stops at the 10,000th record, so ``drill calibrate`` reads a
    window holding more as halves (again while needed): every incident of 10,250 comes
    back once, none lost and none twice, against the fake that refuses paging past it."""
    from datetime import timedelta

    import httpx

    from fakes.common.clock import ManualClock
    from fakes.common.history import Lognormal
    from fakes.pagerduty.backend import PagerDutyBackend
    from fakes.pagerduty.history import seed_history
    from fakes.pagerduty.rest_api import REST_API_KEY
    from fakes.pagerduty.router import build_app
    from sim.calibrate.sources import Api, pagerduty_all
    from tests.servers import serve_in_thread

    clock = ManualClock(epoch=datetime(2026, 6, 1, tzinfo=UTC))
    backend = PagerDutyBackend(clock)
    seeded = seed_history(backend, seed=8, count=10_250, ack_delay=Lognormal(120.0, 0.5),
                          days=30.0)
    now = clock.epoch
    with serve_in_thread(build_app(backend)) as url, httpx.Client() as client:
        api = Api("pagerduty", url, f"Token token={REST_API_KEY}", client)
        got = pagerduty_all(api, "/incidents", "incidents", now - timedelta(days=31),
                            now + timedelta(days=1))
    assert sorted(i["id"] for i in got) == sorted(i.id for i in seeded)
