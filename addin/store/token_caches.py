"""Each rep's token cache per identity provider, sealed in the store.

The pane's requests and the workers both read and write it. Inside a request (or a task's app
context) it goes through that context's session, so it commits with the request's other writes;
on SQLite a second connection would wait for the request's open write transaction until it timed
out. Outside any context (scripts, tests) each call is its own short transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .models import TokenCache, utcnow
from .sealed import Sealer


class TokenCacheStore:
    """Load, save and forget sealed token caches by (tenant, rep, provider)."""

    def __init__(
        self,
        engine: Engine,
        sealer: Sealer,
        *,
        context_session: Callable[[], Session | None] | None = None,
    ) -> None:
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._sealer = sealer
        self._context_session = context_session

    def load(self, tenant_id: str, user_oid: str, provider: str) -> str | None:
        """Return the rep's cache as it was saved, or None (never saved, or unreadable)."""
        with self._transaction() as session:
            sealed = session.scalar(
                select(TokenCache.sealed).where(
                    TokenCache.tenant_id == tenant_id,
                    TokenCache.user_oid == user_oid,
                    TokenCache.provider == provider,
                )
            )
        return None if sealed is None else self._sealer.open(sealed)

    def save(self, tenant_id: str, user_oid: str, provider: str, cache: str) -> None:
        """Seal and store the rep's cache, replacing what was there."""
        sealed = self._sealer.seal(cache)
        with self._transaction() as session:
            if self._update(session, tenant_id, user_oid, provider, sealed):
                return
            try:
                with session.begin_nested():
                    session.add(
                        TokenCache(
                            tenant_id=tenant_id,
                            user_oid=user_oid,
                            provider=provider,
                            sealed=sealed,
                        )
                    )
            except IntegrityError:
                # Another request of the same rep saved first: ours is as new, so overwrite.
                self._update(session, tenant_id, user_oid, provider, sealed)

    def forget(self, tenant_id: str, user_oid: str, provider: str) -> None:
        """Delete the rep's cache (sign-out): the refresh token is gone from this server."""
        with self._transaction() as session:
            session.execute(
                delete(TokenCache).where(
                    TokenCache.tenant_id == tenant_id,
                    TokenCache.user_oid == user_oid,
                    TokenCache.provider == provider,
                )
            )

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        shared = self._context_session() if self._context_session else None
        if shared is not None:
            yield shared
            shared.flush()
            return
        with self._sessions.begin() as session:
            yield session

    @staticmethod
    def _update(
        session: Session, tenant_id: str, user_oid: str, provider: str, sealed: bytes
    ) -> bool:
        row = session.scalar(
            select(TokenCache).where(
                TokenCache.tenant_id == tenant_id,
                TokenCache.user_oid == user_oid,
                TokenCache.provider == provider,
            )
        )
        if row is None:
            return False
        row.sealed, row.updated_at = sealed, utcnow()
        return True
