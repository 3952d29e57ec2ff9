"""The local store: SQLAlchemy 2 on SQLite (default) or PostgreSQL, migrated by Alembic.

Configuration: ``DATABASE_URL``. ``sidepane db upgrade`` brings a database to the newest schema;
the demo and the tests run it on start. Views and services get a session with ``session()``;
it commits when the request ends without an error and rolls back otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, g, has_app_context
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from .token_caches import TokenCacheStore

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets WAL and a busy timeout so the worker and web can share it."""
    if url.startswith("sqlite:///"):
        folder = os.path.dirname(url.removeprefix("sqlite:///"))
        if folder:
            os.makedirs(folder, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> AlembicConfig:
    """Return an Alembic configuration pointing at our migrations and ``url``."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the newest schema."""
    command.upgrade(alembic_config(url), "head")


def session() -> Session:
    """Return this request's session, opening it on first use."""
    if "store_session" not in g:
        factory: sessionmaker[Session] = current_app.extensions["store"]
        g.store_session = factory()
    s: Session = g.store_session
    return s


def _close_session(error: BaseException | None) -> None:
    s: Session | None = g.pop("store_session", None)
    if s is None:
        return
    try:
        if error is None:
            s.commit()
        else:
            s.rollback()
    finally:
        s.close()


def init_app(app: Flask) -> None:
    """Create the engine and session factory, and close sessions with each request."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["store_engine"] = engine
    app.extensions["store"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def token_cache_store(app: Flask) -> TokenCacheStore:
    """Return the store of reps' sealed token caches, writing through the context's session."""
    from .sealed import Sealer
    from .token_caches import TokenCacheStore

    return TokenCacheStore(
        app.extensions["store_engine"],
        Sealer.from_config(app.config),
        context_session=lambda: session() if has_app_context() else None,
    )
