"""Migration 0008: a heartbeat changes no indexed column of ``runs``, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, read_catalog_file
from jupyterlab_compute_panel.ledger import Ledger
from jupyterlab_compute_panel.ledger.engine import MIGRATIONS


def _alembic(ledger: Ledger, action: str, revision: str) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with ledger.engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, action)(config, revision)


def _indexed_columns(ledger: Ledger) -> set[str]:
    """Every column of ``runs`` that some index of it holds."""
    inspector = sa.inspect(ledger.engine)
    return {column for index in inspector.get_indexes("runs") for column in index["column_names"]}


def _fillfactor(ledger: Ledger) -> str | None:
    with ledger.engine.connect() as conn:
        options = conn.execute(sa.text("SELECT reloptions FROM pg_class WHERE relname = 'runs'")).scalar()
    return next((o.split("=", 1)[1] for o in options or [] if o.startswith("fillfactor=")), None)


def test_heartbeats_touch_no_index_and_the_open_runs_are_still_found(any_db_url):
    ledger = Ledger(any_db_url)
    try:
        ledger.migrate()
        assert "last_heartbeat" not in _indexed_columns(ledger)
        (open_index,) = [i for i in sa.inspect(ledger.engine).get_indexes("runs") if i["name"] == "ix_runs_open"]
        assert open_index["column_names"] == ["ended"]
        postgres = ledger.engine.dialect.name == "postgresql"
        if postgres:
            assert _fillfactor(ledger) == "70"
        # The reconciler's query still runs (and finds an open run by its stale heartbeat).
        catalog = read_catalog_file(DEMO_CATALOG)
        ledger.sync_tiers(catalog)
        run = ledger.open_run(
            kernel_id="k", kernelspec="s", tier=catalog.get("rtx4090"), grant_id=None, user="u", notebook=None
        )
        assert ledger.heartbeat([run.id]) == []
        closed = ledger.close_at_last_heartbeat(lambda r: r.id == run.id, "lost")
        assert [r.id for r in closed] == [run.id]

        _alembic(ledger, "downgrade", "0007")
        assert "last_heartbeat" in _indexed_columns(ledger)
        if postgres:
            assert _fillfactor(ledger) is None
        _alembic(ledger, "upgrade", "head")
        assert "last_heartbeat" not in _indexed_columns(ledger)
    finally:
        ledger.dispose()
