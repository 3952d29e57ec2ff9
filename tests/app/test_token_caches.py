"""Reps' tokens at rest: sealed, per rep and provider, unreadable without the key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from addin.store import make_engine
from addin.store.models import TokenCache
from addin.store.sealed import Sealer, derive_key
from addin.store.token_caches import TokenCacheStore

SECRET = '{"RefreshToken": {"x": {"secret": "0.AAA-refresh-token-of-alex"}}}'


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_sealed_value_opens_only_with_the_key():
    sealer = Sealer([Fernet.generate_key()])
    sealed = sealer.seal(SECRET)
    assert b"refresh-token" not in sealed
    assert sealer.open(sealed) == SECRET
    assert Sealer([Fernet.generate_key()]).open(sealed) is None


def test_tampering_reads_as_nothing():
    sealer = Sealer([Fernet.generate_key()])
    sealed = bytearray(sealer.seal(SECRET))
    sealed[40] ^= 1
    assert sealer.open(bytes(sealed)) is None


def test_rotation_opens_old_values_and_reseals_with_the_new_key():
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    sealed_by_old = Sealer([old_key]).seal(SECRET)
    rotated = Sealer([new_key, old_key])
    assert rotated.open(sealed_by_old) == SECRET
    assert Sealer([new_key]).open(rotated.reseal(sealed_by_old)) == SECRET


def test_key_from_config_or_derived_from_the_secret():
    key = Fernet.generate_key()
    explicit = Sealer.from_config({"ENCRYPTION_KEYS": key.decode(), "SECRET_KEY": "s"})
    assert Sealer([key]).open(explicit.seal("x")) == "x"
    derived = Sealer.from_config({"ENCRYPTION_KEYS": [], "SECRET_KEY": "app secret"})
    assert Sealer([derive_key("app secret")]).open(derived.seal("x")) == "x"
    assert Sealer([derive_key("another secret")]).open(derived.seal("x")) is None


def test_store_keeps_each_reps_cache_apart_and_sealed(engine):
    caches = TokenCacheStore(engine, Sealer([Fernet.generate_key()]))
    caches.save("t1", "alex", "entra", SECRET)
    caches.save("t1", "sam", "entra", "sam's cache")
    caches.save("t2", "alex", "entra", "other tenant")
    assert caches.load("t1", "alex", "entra") == SECRET
    assert caches.load("t1", "sam", "entra") == "sam's cache"
    assert caches.load("t2", "alex", "entra") == "other tenant"
    assert caches.load("t1", "alex", "salesforce") is None
    with engine.connect() as connection:
        stored = connection.execute(select(TokenCache.sealed)).scalars().all()
    assert stored and all(b"refresh-token" not in blob for blob in stored)


def test_save_replaces_and_forget_deletes(engine):
    caches = TokenCacheStore(engine, Sealer([Fernet.generate_key()]))
    caches.save("t1", "alex", "entra", "first")
    caches.save("t1", "alex", "entra", "second")
    assert caches.load("t1", "alex", "entra") == "second"
    caches.forget("t1", "alex", "entra")
    assert caches.load("t1", "alex", "entra") is None
    with engine.connect() as connection:
        assert connection.execute(select(TokenCache.id)).first() is None


def test_a_cache_sealed_with_a_retired_key_is_a_fresh_sign_in(engine):
    TokenCacheStore(engine, Sealer([Fernet.generate_key()])).save("t1", "alex", "entra", SECRET)
    assert (
        TokenCacheStore(engine, Sealer([Fernet.generate_key()])).load("t1", "alex", "entra") is None
    )
