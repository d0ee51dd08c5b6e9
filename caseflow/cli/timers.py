"""``caseflow timers ...`` and ``caseflow worker``: the durable timers."""

from __future__ import annotations

from typing import Any

import click

from caseflow.cli.common import (
    db_option,
    dump,
    group,
    open_engine,
    operator_option,
    workflows_option,
)


@group("timers")
def timers_group() -> None:
    """Durable timers: list, fire what is due, recompute provisional deadlines."""


@timers_group.command(name="list")
@db_option
@workflows_option
@click.option("--due", is_flag=True, help="Only timers due now.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--offset", default=0, type=click.IntRange(min=0), help="Skip this many first.")
@click.option("--json", "as_json", is_flag=True)
def list_timers(
    db: str, workflows: tuple[str, ...], due: bool, limit: int, offset: int, as_json: bool
) -> None:
    """Pending timers, soonest first."""
    with open_engine(db, workflows, stored_only=True) as engine:
        found = engine.timers(due_only=due, limit=offset + limit + 1)[offset:]
        lag = engine.sweep_lag()
    more = len(found) > limit
    found = found[:limit]
    if as_json:
        dump([t.to_dict() for t in found])
        return
    from caseflow.cli.common import local_time
    from caseflow.cli.render import Column, Grid, console, more_rows

    grid = Grid(
        [
            Column("id", role="keep"),
            Column("case", role="keep", host=True),
            Column("kind", breaks="_"),
            Column("clock", breaks="_"),
            Column("due (Asia/Shanghai)"),
            Column("provisional", role="spill", label="", order=1),
        ]
    )
    for t in found:
        grid.add_row(
            str(t.id),
            t.case_id,
            t.kind,
            t.clock or "",
            local_time(t.due_at),
            "provisional" if t.provisional else "",
        )
    if found:
        grid.print(console())
    click.echo(_lag_line(lag))
    footer = more_rows(len(found), more, offset, "timers due" if due else "pending timers")
    if footer:
        click.echo(footer)


def _lag_line(lag: Any) -> str:
    """How late the sweep is: without a worker (or start_scheduler) nothing breaches."""
    if lag is None:
        return "sweep: no timer is due"
    minutes = int(lag.total_seconds() // 60)
    late = f"{minutes // 1440} d {minutes % 1440 // 60} h" if minutes >= 1440 else f"{minutes} min"
    hint = "" if minutes < 5 else "; is `caseflow worker` running?"
    return f"sweep: oldest due timer waiting {late}{hint}"


@timers_group.command(name="fire-due")
@db_option
@workflows_option
def fire_due(db: str, workflows: tuple[str, ...]) -> None:
    """Run one sweep now: fire every due timer exactly once."""
    with open_engine(db, workflows) as engine:
        report = engine.fire_due()
    fired = ", ".join(f"{k} {v}" for k, v in sorted(report.fired.items())) or "nothing due"
    click.echo(f"fired: {fired}; skipped {report.skipped}; failed {report.failed}")


@timers_group.command()
@db_option
@workflows_option
@operator_option
def recompute(db: str, workflows: tuple[str, ...], operator: str) -> None:
    """Recompute provisional deadlines with the calendar data loaded now (audited)."""
    from rich.progress import Progress

    from caseflow.cases import Actor
    from caseflow.cli.calendar import print_moves
    from caseflow.cli.render import console

    actor = Actor(operator, {"operator"})
    with open_engine(db, workflows) as engine, Progress(console=console(), transient=True) as bar:
        task = bar.add_task("recomputing provisional deadlines", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        moves = engine.recompute_provisional(actor=actor, progress=step)
    print_moves(moves, operator)


@click.command()
@db_option
@workflows_option
@click.option("--interval", default=30.0, show_default=True, help="Seconds between sweeps.")
@click.option("--batch", default=500, show_default=True)
@click.option(
    "--lease",
    default=300.0,
    show_default=True,
    help="Seconds a claimed batch stays ours; after that another worker may take it.",
)
def worker(db: str, workflows: tuple[str, ...], interval: float, batch: int, lease: float) -> None:
    """Sweep due timers every INTERVAL seconds until interrupted (run several for throughput)."""
    import datetime as dt
    import signal
    import threading

    engine = open_engine(db, workflows)
    stop = threading.Event()

    def _stop(*_args: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    scheduler = engine.start_scheduler(
        interval=interval, batch=batch, lease=dt.timedelta(seconds=lease)
    )
    click.echo(f"caseflow worker: sweeping every {interval:g}s; Ctrl-C to stop", err=True)
    try:
        scheduler.modify_job("caseflow-sweep", next_run_time=engine.clock.now())
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        engine.close()
