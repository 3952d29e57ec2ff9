"""The sandbox CRM as a directory of environments, so every branch of rule 3 can be tried.

Features
--------
* Five environments of two organisations, each its own SQLite file beside ``SANDBOX_PATH``:
  Contoso (production, the seeded showcase data) with its Test and Training sandboxes (copies of
  production, as real test environments are), and Fabrikam (production, other data) with its
  Dev sandbox.
* Which environments a rep gets plays the part of the Global Discovery Service. In demo mode the
  demo reps are set up so each branch of the automatic-connection rule has one:

  ====== ================================================ ==================================
  rep    environments                                     rule 3
  ====== ================================================ ==================================
  alex   Contoso, Contoso Test, Contoso Training          one production: connects to it
  sam    Contoso, Fabrikam, Fabrikam Dev                  two productions: the rep chooses
  kim    Contoso Test                                     exactly one: connects to it
  lee    Contoso Test, Contoso Training, Fabrikam Dev     sandboxes only: the rep chooses
  others Contoso, Contoso Test                            one production: connects to it
  ====== ================================================ ==================================

Configuration
-------------
SANDBOX_PATH   the production environment's file; the others are ``<stem>-<id>.db`` beside it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from crm_adapters.models import Environment, EnvironmentKind
from crm_adapters.sandbox import SandboxAdapter, seed

from ..auth import DEMO_TENANT
from ..identity import Identity

PRIMARY = "contoso"


@dataclass(frozen=True, slots=True)
class SandboxEnvironment:
    id: str
    name: str
    kind: EnvironmentKind
    #: The environment whose data this one starts as a copy of (itself for a seeded one).
    copy_of: str
    seed: int


ENVIRONMENTS = (
    SandboxEnvironment(PRIMARY, "Contoso", "production", PRIMARY, 1),
    SandboxEnvironment("contoso-test", "Contoso Test", "sandbox", PRIMARY, 1),
    SandboxEnvironment("contoso-training", "Contoso Training", "sandbox", PRIMARY, 1),
    SandboxEnvironment("fabrikam", "Fabrikam", "production", "fabrikam", 2),
    SandboxEnvironment("fabrikam-dev", "Fabrikam Dev", "sandbox", "fabrikam", 2),
)
BY_ID = {e.id: e for e in ENVIRONMENTS}

#: The demo reps' environments (see the table above); everyone else gets `EVERYONE`.
DEMO_REPS: dict[str, tuple[str, ...]] = {
    "alex": (PRIMARY, "contoso-test", "contoso-training"),
    "sam": (PRIMARY, "fabrikam", "fabrikam-dev"),
    "kim": ("contoso-test",),
    "lee": ("contoso-test", "contoso-training", "fabrikam-dev"),
}
EVERYONE = (PRIMARY, "contoso-test")


def environment_path(primary_path: str | os.PathLike[str], environment_id: str) -> Path:
    """Return the SQLite file of one sandbox environment."""
    primary = Path(primary_path)
    if environment_id == PRIMARY:
        return primary
    return primary.with_name(f"{primary.stem}-{environment_id}{primary.suffix}")


class SandboxDirectory:
    """The sandbox's environments and adapters."""

    crm = "sandbox"
    label = "Sandbox CRM"
    automatic_sign_in = True

    def __init__(self, primary_path: str, base_url: str) -> None:
        self.primary_path = primary_path
        self.base_url = base_url.rstrip("/")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SandboxDirectory:
        return cls(config["SANDBOX_PATH"], config["BASE_URL"])

    @classmethod
    def from_app(cls, app: Flask) -> SandboxDirectory:
        return cls.from_config(app.config)

    def environments(self, identity: Identity) -> list[Environment]:
        ids: tuple[str, ...] = EVERYONE
        if identity.tenant_id == DEMO_TENANT:
            ids = DEMO_REPS.get(identity.user_oid.removeprefix("demo-"), EVERYONE)
        return [self.environment(BY_ID[i]) for i in ids]

    def find(self, environment_id: str) -> Environment | None:
        """Return any sandbox environment by id (its record pages serve everyone)."""
        sandbox = BY_ID.get(environment_id)
        return self.environment(sandbox) if sandbox else None

    def primary(self) -> Environment:
        """Return the production environment that holds the seeded showcase."""
        return self.environment(BY_ID[PRIMARY])

    def environment(self, sandbox: SandboxEnvironment) -> Environment:
        url = f"{self.base_url}/sandbox/{sandbox.id}"
        return Environment(sandbox.id, sandbox.name, sandbox.kind, url, self.crm, api_url=url)

    def adapter(self, environment: Environment, identity: Identity | None = None) -> SandboxAdapter:
        # Everyone shares the sandbox's data: there is no per-rep sign-in to act with.
        path = environment_path(self.primary_path, environment.id)
        return SandboxAdapter(path, base_url=self.base_url, environment_id=environment.id)

    def sign_out(self, identity: Identity) -> None:
        """Nothing to forget: the sandbox keeps no tokens."""

    def missing(self) -> list[str]:
        """Return the environments whose data does not exist yet."""
        return [
            e.id for e in ENVIRONMENTS if not environment_path(self.primary_path, e.id).exists()
        ]


def prepare(
    primary_path: str,
    contacts: int,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[str]:
    """Seed or copy every sandbox environment that has no data yet; return the ones made."""
    made = []
    for sandbox in ENVIRONMENTS:
        target = environment_path(primary_path, sandbox.id)
        if target.exists():
            continue
        source = environment_path(primary_path, sandbox.copy_of)
        if sandbox.copy_of != sandbox.id and source.exists():
            shutil.copyfile(source, target)
        else:

            def report(done: int, total: int, name: str = sandbox.name) -> None:
                if progress is not None:
                    progress(name, done, total)

            # The second organisation is smaller: it only has to look different.
            size = contacts if sandbox.id == PRIMARY else max(contacts // 4, 50)
            seed(target, size, seed=sandbox.seed, progress=report)
        made.append(sandbox.id)
    return made
