"""Listing: keyset paging by (updated_at, id), updated_since, data that move with the clock,
and the same bytes for the same seed."""

from __future__ import annotations

import numpy as np

from fakes.common.clock import to_iso
from fakes.pulse.backend import PulseBackend

FIELDS = {"id", "object", "first_name", "last_name", "email", "phone", "company", "title",
          "tags", "owner_id", "created_at", "updated_at", "lifecycle_stage", "custom_fields"}


def _key(record):
    return record["updated_at"], record["id"]


def test_paging_over_http_returns_every_contact_exactly_once_in_key_order(api, backend):
    """Pages of 37 chained by next_cursor: all 240 ids once each, (updated_at, id) rising."""
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 37} | ({"cursor": cursor} if cursor else {})
        body = api.get("/v1/contacts", params=params).json()
        assert len(body["data"]) <= 37 and body["has_more"] == (body["next_cursor"] is not None)
        seen += body["data"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    ids = [r["id"] for r in seen]
    assert pages == 7 and len(ids) == len(set(ids)) == backend.size
    assert [_key(r) for r in seen] == sorted(_key(r) for r in seen)
    assert all(r.keys() == FIELDS for r in seen)
    assert ids == backend.contact_ids()


def test_a_contact_has_the_documented_shape(api):
    """Ids pc_000123, ISO times with ms and Z, tags a list, custom_fields an object."""
    record = api.get("/v1/contacts/pc_000001").json()
    assert record["id"] == "pc_000001" and record["object"] == "contact"
    assert record["created_at"].endswith("Z") and len(record["updated_at"]) == 24
    assert record["created_at"] <= record["updated_at"] <= "2026-01-25T14:00:00.000Z"
    assert "@" in record["email"] and isinstance(record["tags"], list)
    assert set(record["custom_fields"]) == {"lead_score", "region", "source",
                                            "newsletter_opt_in"}


def test_updated_since_later_returns_only_the_contacts_changed_since(clock, backend, list_all):
    """After a full sync at t0 and two hours, updated_since=t0 lists exactly those whose
    updated_at moved; a contact updated twice appears once, with its newer data."""
    before = {r["id"]: r for r in list_all(backend)}
    since = to_iso(clock)
    clock.advance(2 * 3600)
    changed = list_all(backend, updated_since=since)
    after = {r["id"]: r for r in list_all(backend)}
    moved = {i for i in after if after[i]["updated_at"] != before[i]["updated_at"]}
    assert 0 < len(changed) < backend.size / 2
    assert {r["id"] for r in changed} == moved
    assert len(changed) == len(moved)
    assert all(r["updated_at"] >= since for r in changed)
    assert all(after[r["id"]] == r != before[r["id"]] for r in changed)


def test_a_contact_updated_while_paging_comes_again_and_none_is_skipped(clock, backend):
    """Advancing the clock between pages: every contact is still seen at least once."""
    seen, cursor = [], None
    while True:
        body = backend.list_contacts("pulse_drill_key", limit=20, cursor=cursor).body
        seen += [r["id"] for r in body["data"]]
        clock.advance(1800)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert set(seen) == set(backend.contact_ids())
    assert len(seen) > len(set(seen))  # some were updated behind the cursor and came again


def test_the_history_does_not_depend_on_how_often_the_clock_is_read(clock, make_backend):
    """Reading every 5 minutes or jumping 6 hours at once: the same data at the end."""
    stepwise, jumper = make_backend(), make_backend()
    for _ in range(72):
        clock.advance(300)
        stepwise.contact_ids()
    assert stepwise.contact_ids() == jumper.contact_ids()
    assert np.array_equal(stepwise.directory.version, jumper.directory.version)
    assert stepwise.truth("pc_000042") == jumper.truth("pc_000042")


def test_same_seed_same_bytes_other_seed_different_bytes(clock, make_backend, make_api):
    """Two apps on seed 11 page out identical bytes, also after time moves; seed 12 not."""
    apis = [make_api(make_backend(seed=s)) for s in (11, 11, 12)]

    def pages(api):
        raw, cursor = b"", None
        while True:
            response = api.get("/v1/contacts", params={"limit": 100} | (
                {"cursor": cursor} if cursor else {}))
            raw += response.content
            cursor = response.json()["next_cursor"]
            if cursor is None:
                return raw

    first = [pages(api) for api in apis]
    clock.advance(3 * 3600)
    later = [pages(api) for api in apis]
    assert first[0] == first[1] != first[2]
    assert later[0] == later[1] != later[2]
    assert later[0] != first[0]


def test_a_numpy_generator_seeds_as_well_as_an_int(clock):
    """PulseBackend(clock, Generator): the same generator state gives the same data."""
    one = PulseBackend(clock, np.random.default_rng(5), contacts=30)
    two = PulseBackend(clock, np.random.default_rng(5), contacts=30)
    assert one.seed_value == two.seed_value
    assert one.truth("pc_000030") == two.truth("pc_000030")
