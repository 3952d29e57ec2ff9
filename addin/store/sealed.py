"""Secrets at rest: what the store keeps of a rep's tokens is sealed with Fernet.

Features
--------
* Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``): a sealed value can be neither
  read nor altered without the key; tampering or a wrong key reads as "nothing stored", so the
  rep signs in again instead of the pane failing.
* Key rotation: ``ENCRYPTION_KEYS`` lists Fernet keys, newest first. New values are sealed with
  the first; every listed key opens old ones (MultiFernet), and `Sealer.reseal` moves a value to
  the newest key.
* Without ``ENCRYPTION_KEYS`` the key is derived from ``SECRET_KEY`` with HKDF-SHA256, so a
  deployment with one secret is safe by default; changing ``SECRET_KEY`` then signs reps out.

Configuration
-------------
ENCRYPTION_KEYS   list of Fernet keys (``Fernet.generate_key()``), newest first; optional.
SECRET_KEY        the fallback key material.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_HKDF_INFO = b"sidepane token caches v1"


class Sealer:
    """Seal and open small secrets with the deployment's keys."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a Sealer needs at least one key")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Sealer:
        """Use ``ENCRYPTION_KEYS`` when set, else a key derived from ``SECRET_KEY``."""
        keys = config.get("ENCRYPTION_KEYS") or []
        if isinstance(keys, str):
            keys = [key.strip() for key in keys.split(",") if key.strip()]
        if keys:
            return cls([key.encode("ascii") if isinstance(key, str) else key for key in keys])
        return cls([derive_key(str(config["SECRET_KEY"]))])

    def seal(self, plain: str) -> bytes:
        """Return ``plain`` encrypted and authenticated with the newest key."""
        return self._fernet.encrypt(plain.encode("utf-8"))

    def open(self, sealed: bytes) -> str | None:
        """Return what ``seal`` sealed, or None when no key opens it (tampered, key retired)."""
        try:
            return self._fernet.decrypt(sealed).decode("utf-8")
        except (InvalidToken, UnicodeDecodeError):
            return None

    def reseal(self, sealed: bytes) -> bytes:
        """Return ``sealed`` sealed again with the newest key (after a key rotation)."""
        return self._fernet.rotate(sealed)


def derive_key(secret: str) -> bytes:
    """Derive a Fernet key from the app's secret (HKDF-SHA256, fixed context)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode("utf-8")))
