"""Dynamics 365 as a directory: the rep's environments from Global Discovery, adapters on them.

Features
--------
* Single sign-on (rule 2): the pane's token is exchanged on the rep's behalf for a Global
  Discovery token and a Dataverse token per environment (`addin.connections.entra`); the rep
  signs in by hand only after signing out (rule 4) or when Entra asks for it.
* Environments come only from the Global Discovery Service (rule 5): friendly name, production
  or sandbox, URL and API URL. They are cached per rep for ``DISCOVERY_TTL`` seconds (never one
  rep's list for another), so opening items does not ask discovery each time.
* `adapter` opens a `DynamicsAdapter` on one discovered environment whose tokens come from the
  rep's sealed msal cache: the pane's requests and, later, workers use the same path.
* Signing out forgets the rep's tokens on this server.

Configuration
-------------
DYNAMICS_DISCOVERY_URL  Global Discovery's base URL (https://globaldisco.crm.dynamics.com).
DISCOVERY_TTL           seconds a rep's environment list is reused (300).
plus `addin.connections.entra`'s API_AUDIENCE, ENTRA_CLIENT_SECRET, ENTRA_AUTHORITY, CA_FILE.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from flask import Flask

from crm_adapters.dynamics import DynamicsAdapter
from crm_adapters.dynamics.discovery import GLOBAL_DISCOVERY_URL, discover_environments
from crm_adapters.models import Environment

from .. import store
from ..identity import Identity
from ..store.token_caches import TokenCacheStore
from .entra import EntraClient, EntraTokens

#: At most this many reps' environment lists are kept in memory.
_DISCOVERY_CACHE_SIZE = 10_000


class DynamicsDirectory:
    """The rep's Dynamics 365 environments and adapters on them."""

    crm = "dynamics"
    label = "Dynamics 365"
    automatic_sign_in = True

    def __init__(
        self,
        client: EntraClient,
        caches: TokenCacheStore,
        *,
        discovery_url: str = GLOBAL_DISCOVERY_URL,
        discovery_ttl: float = 300,
    ) -> None:
        self.client = client
        self.caches = caches
        self.discovery_url = discovery_url.rstrip("/")
        self.discovery_ttl = discovery_ttl
        self._discovered: OrderedDict[tuple[str, str], tuple[float, list[Environment]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    @classmethod
    def from_app(cls, app: Flask) -> DynamicsDirectory:
        config: Mapping[str, Any] = app.config
        return cls(
            EntraClient.from_config(config),
            store.token_cache_store(app),
            discovery_url=config.get("DYNAMICS_DISCOVERY_URL") or GLOBAL_DISCOVERY_URL,
            discovery_ttl=float(config.get("DISCOVERY_TTL", 300)),
        )

    def tokens(self, identity: Identity) -> EntraTokens:
        """Return the rep's Microsoft tokens."""
        return EntraTokens(self.client, self.caches, identity)

    def environments(self, identity: Identity) -> list[Environment]:
        key = (identity.tenant_id, identity.user_oid)
        now = time.monotonic()
        with self._lock:
            cached = self._discovered.get(key)
            if cached is not None and now - cached[0] < self.discovery_ttl:
                return list(cached[1])
        token = self.tokens(identity).get(self.discovery_url)
        found = discover_environments(
            token, base_url=self.discovery_url, verify=self.client.ca_file or True
        )
        with self._lock:
            self._discovered[key] = (now, found)
            self._discovered.move_to_end(key)
            while len(self._discovered) > _DISCOVERY_CACHE_SIZE:
                self._discovered.popitem(last=False)
        return list(found)

    def adapter(
        self, environment: Environment, identity: Identity | None = None
    ) -> DynamicsAdapter:
        if identity is None:
            raise ValueError("a Dynamics 365 adapter acts for a rep: pass their identity")
        tokens = self.tokens(identity)
        resource = environment.api_url

        def token(force_refresh: bool) -> str:
            return tokens.get(resource, force_refresh=force_refresh)

        return DynamicsAdapter(
            environment.api_url,
            web_url=environment.url,
            token=token,
            environment_id=environment.id,
            verify=self.client.ca_file or True,
        )

    def sign_out(self, identity: Identity) -> None:
        """Forget the rep's tokens and environment list on this server."""
        self.tokens(identity).forget()
        with self._lock:
            self._discovered.pop((identity.tenant_id, identity.user_oid), None)
