"""Chains of accountability: every actor reaches Parliament at every date it exists, with
no cycles, computed with networkx over the store's links."""

from __future__ import annotations

import datetime as dt

from caregraph import accountability
from caregraph.actors import directory


def _dates_that_matter(store) -> list[dt.date]:
    days = {dt.date(2000, 1, 1), dt.date.today()}
    for link in accountability.links(store):
        for day in (link.valid_from, link.valid_to and link.valid_to + dt.timedelta(days=1)):
            if day:
                days.add(day)
    for actor in directory(store):
        for day in (actor.valid_from, actor.valid_to and actor.valid_to + dt.timedelta(days=1)):
            if day:
                days.add(day)
    return sorted(days)


def test_every_actor_reaches_parliament_at_every_date_it_exists(store):
    for day in _dates_that_matter(store):
        assert accountability.unanchored(store, day) == [], day


def test_there_are_no_cycles(store):
    assert accountability.cycles(store) == []


def test_chains_follow_the_law_as_it_stood(store):
    social_worker = directory(store).resolve("social-worker")
    then = accountability.chains(store, social_worker, dt.date(2015, 6, 1))
    now = accountability.chains(store, social_worker, dt.date.today())
    assert any(c.actors[1].id == "hcpc" for c in then)
    assert not any(c.actors[1].id == "swe" for c in then)
    assert any(c.actors[1].id == "swe" for c in now)
    for chain in then + now:
        assert chain.actors[-1].id == "parliament"
        assert len(chain.links) == len(chain.actors) - 1


def test_chain_steps_carry_the_relation_and_its_legal_basis_or_caveat(store):
    cqc = directory(store).resolve("CQC")
    chain = accountability.chains(store, cqc, dt.date.today())[0]
    for link in chain.links:
        assert link.relation
        assert link.legal_basis or link.caveat


def test_an_actor_that_did_not_exist_has_no_chain(store):
    icb = directory(store).resolve("icb")
    assert accountability.chains(store, icb, dt.date(2015, 1, 1)) == []
    assert accountability.chains(store, icb, dt.date.today())


def test_single_points_of_failure_name_the_bodies_every_chain_passes_through(store):
    dependants = accountability.single_points_of_failure(store, dt.date.today())
    actor = "https://w3id.org/caregraph/id/actor/"
    # Healthwatch England is a committee of CQC; a Safeguarding Adults Board answers to its council.
    assert actor + "healthwatch-england" in dependants[actor + "cqc"]
    assert actor + "safeguarding-adults-board" in dependants[actor + "council-social-services"]
    assert accountability.PARLIAMENT not in dependants
