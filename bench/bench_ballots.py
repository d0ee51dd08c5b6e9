#!/usr/bin/env python
"""
Ballots: casting N ballots in one vote (one engine call each) and closing it, against a
raw-insert floor in the same run.

Run by hand (not a test)::

    .venv/bin/python bench/bench_ballots.py [--ballots 10000] [--db sqlite|postgres|both]

caseflow: a ``four_deliberations`` case walked to its representative-meeting vote with
an electorate of N + 1 voters (secret ballot; one stays away), then ``engine.cast_ballot``
once per voter (each
its own transaction: load the case, lock and check the open round, register attendance,
insert the ballot under its (vote, voter) primary key, count it, write a history line),
then ``engine.close_vote``. The floor: the same number of transactions, each inserting one
row into a (vote_id, voter, choice) table with the same primary key, and committing.
The two alternate in blocks so machine noise hits both.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
import structlog

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

from caseflow import Actor, Engine  # noqa: E402
from caseflow.store.db import connect  # noqa: E402
from caseflow.testing import MovableClock  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
VILLAGE = "zj/lishui/liandu/xiaxiang"


@contextmanager
def database(kind: str):
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/ballots.db"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def open_vote(engine: Engine, voters: list[str]) -> str:
    data = {"matter": "村道硬化工程", "village": "下乡村", "representatives": voters}
    case = engine.start(
        "four_deliberations", data=data, actor=Actor("b", {"village_party_branch"}, VILLAGE)
    )
    for role, event, payload in [
        ("village_party_branch", "propose", {"proposal": "p", "body": "representative_meeting"}),
        ("two_committees", "agree", {"plan": "p"}),
        ("party_members_meeting", "review_passed", {}),
        ("village_committee", "convene", {"meeting": "m"}),
    ]:
        engine.fire(case.id, event, actor=Actor(role, {role}, VILLAGE), payload=payload)
    return case.id


def run(kind: str, n: int, blocks: int) -> dict[str, float]:
    voters = [f"rep{i:05d}" for i in range(n)]
    absent = "rep-absent"  # one member does not vote, so the clerk closes the vote
    with database(kind) as url:
        engine = Engine(
            url,
            workflows=ROOT / "workflows",
            clock=MovableClock("2026-05-06T09:00"),
            auto_upgrade=True,
        )
        case_id = open_vote(engine, [*voters, absent])
        floor_db = connect(url)
        meta = sa.MetaData()
        table = sa.Table(
            "bench_ballots",
            meta,
            sa.Column("vote_id", sa.Integer, primary_key=True),
            sa.Column("voter", sa.String(200), primary_key=True),
            sa.Column("choice", sa.String(10)),
        )
        meta.create_all(floor_db)
        insert = table.insert()
        size = n // blocks
        cf_times: list[float] = []
        fl_times: list[float] = []
        choices = ("yes", "yes", "no", "yes")
        for b in range(blocks):
            chunk = voters[b * size : (b + 1) * size]
            sides = [("cf", chunk), ("floor", chunk)]
            for side, names in sides if b % 2 == 0 else sides[::-1]:
                for i, voter in enumerate(names):
                    start = time.perf_counter()
                    if side == "cf":
                        engine.cast_ballot(
                            case_id, choices[i % 4], actor=Actor(voter, {"representative"})
                        )
                    else:
                        with floor_db.begin() as conn:
                            conn.execute(
                                insert, {"vote_id": 1, "voter": voter, "choice": choices[i % 4]}
                            )
                    (cf_times if side == "cf" else fl_times).append(time.perf_counter() - start)
        start = time.perf_counter()
        case = engine.close_vote(case_id, actor=Actor("clerk", {"vote_clerk"}))
        close_s = time.perf_counter() - start
        view = engine.vote(case_id)
        assert view.yes + view.no + view.abstain == len(cf_times), "every ballot counted"
        engine.close()
        floor_db.dispose()
    return {
        "ballots": len(cf_times),
        "cf_per_s": len(cf_times) / sum(cf_times),
        "floor_per_s": len(fl_times) / sum(fl_times),
        "cf_median_us": statistics.median(cf_times) * 1e6,
        "floor_median_us": statistics.median(fl_times) * 1e6,
        "close_ms": close_s * 1e3,
        "state": case.state,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ballots", type=int, default=10_000)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(
        f"{'db':10} {'ballots':>8} {'caseflow/s':>11} {'floor/s':>9} {'cf med µs':>10} "
        f"{'floor med µs':>13} {'ratio':>6} {'close ms':>9}"
    )
    for kind in kinds:
        r = run(kind, args.ballots, args.blocks)
        ratio = r["floor_per_s"] / r["cf_per_s"]
        print(
            f"{kind:10} {r['ballots']:>8.0f} {r['cf_per_s']:>11.0f} {r['floor_per_s']:>9.0f} "
            f"{r['cf_median_us']:>10.0f} {r['floor_median_us']:>13.0f} {ratio:>5.2f}x "
            f"{r['close_ms']:>9.1f}   (vote {r['state']})"
        )


if __name__ == "__main__":
    main()
