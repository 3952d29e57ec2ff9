"""Which CRM environment a rep's pane talks to (PRODUCT.md rules 1-5).

A **directory** per CRM knows how a rep signs in, which environments the rep may use (Dynamics:
the Global Discovery Service; the sandbox: its own list) and how to open an adapter on one.
This module keeps the rep's side of it in the local store: the connected environment, whether
the rep signed out, and when each environment was last used.

The automatic-connection rule (rule 3): on first open, connect at once when the rep has exactly
one environment, or exactly one production environment whatever the number of sandboxes;
otherwise the rep chooses and confirms. The list is ordered most recently used first. Only an
environment the directory returned is ever connected (rule 5): ids from a request are looked up
in that list, never used to build a URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_adapters import CrmAdapter
from crm_adapters.models import Environment

from ..errors import ApiError
from ..identity import Identity
from ..store.models import CrmConnection, EnvironmentUse, utcnow

#: "turned_off": the organisation's CRM features are not on yet (rules 19-20): the admin must
#: consent and provision first.
Status = Literal["connected", "choose", "signed_out", "no_environments", "turned_off"]


class Directory(Protocol):
    """One CRM as the pane sees it before any adapter exists."""

    crm: str
    #: What reps call this CRM ("Dynamics 365", "Salesforce").
    label: str
    #: True when signing in needs nothing from the rep (single sign-on), False for OAuth consent.
    automatic_sign_in: bool

    def environments(self, identity: Identity) -> list[Environment]:
        """Return the environments this rep may connect to."""
        ...

    def adapter(self, environment: Environment, identity: Identity | None = None) -> CrmAdapter:
        """Open an adapter on one of those environments, acting for ``identity``."""
        ...

    def sign_out(self, identity: Identity) -> None:
        """Forget what this server keeps of the rep's sign-in (tokens, cached lists)."""
        ...


class SignInFailed(Exception):
    """A manual sign-in cannot be finished (expired, used, tampered with); the text says why."""


@runtime_checkable
class ManualSignIn(Protocol):
    """A directory whose reps sign in by hand through the CRM's own login page (OAuth).

    The pane starts a sign-in for the rep (a pending row bound to them), a dialog or popup goes
    to ``authorize_url`` and the CRM sends it back to ``finish_sign_in`` with a code.
    """

    def start_sign_in(self, session: Session, identity: Identity, login: str) -> str:
        """Record a pending sign-in; return its state. An unknown ``login`` is a ValueError."""
        ...

    def authorize_url(self, session: Session, state: str) -> str:
        """Return the CRM's login URL for a pending sign-in."""
        ...

    def finish_sign_in(self, session: Session, state: str, code: str) -> tuple[str, str]:
        """Finish a pending sign-in with the CRM's code; return (tenant id, user oid)."""
        ...

    def cancel_sign_in(self, session: Session, state: str) -> None:
        """Forget a pending sign-in the rep declined."""
        ...


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """Where the rep's pane stands: connected, choosing, or signed out."""

    status: Status
    crm: str
    environment: Environment | None = None
    #: The rep's environments, most recently used first (empty when signed out).
    environments: tuple[Environment, ...] = ()
    #: True when this request connected by the automatic rule; the pane says so once.
    automatic: bool = False
    #: True when the rep was connected to an environment that discovery no longer returns.
    lost_environment: bool = False


def automatic_choice(environments: Sequence[Environment]) -> Environment | None:
    """Apply rule 3: the one environment, or the one production environment, else nobody."""
    if len(environments) == 1:
        return environments[0]
    production = [e for e in environments if e.kind == "production"]
    return production[0] if len(production) == 1 else None


def state(
    session: Session,
    identity: Identity,
    directories: Mapping[str, Directory],
    default_crm: str,
) -> ConnectionState:
    """Return the rep's connection, connecting automatically on first open when rule 3 allows."""
    row = _row(session, identity)
    crm = row.crm if row is not None and row.crm in directories else default_crm
    if row is not None and row.signed_out:
        return ConnectionState("signed_out", crm)
    directory = directories[crm]
    environments = _most_recent_first(session, identity, crm, directory.environments(identity))
    if not environments:
        # A CRM signed into by hand (rule 4) has no environments until the rep has signed in.
        return ConnectionState(
            "no_environments" if directory.automatic_sign_in else "signed_out", crm
        )
    by_id = {e.id: e for e in environments}
    if row is not None and row.crm == crm and row.environment_id is not None:
        if row.environment_id in by_id:
            return ConnectionState("connected", crm, by_id[row.environment_id], environments)
        return ConnectionState("choose", crm, None, environments, lost_environment=True)
    chosen = automatic_choice(environments)
    if chosen is None:
        return ConnectionState("choose", crm, None, environments)
    _connect(session, identity, crm, chosen.id)
    environments = _most_recent_first(session, identity, crm, list(environments))
    return ConnectionState("connected", crm, chosen, environments, automatic=True)


def connect(
    session: Session,
    identity: Identity,
    directories: Mapping[str, Directory],
    crm: str,
    environment_id: str,
) -> ConnectionState:
    """Connect the rep to one of their environments (the picker's Confirm)."""
    directory = _directory(directories, crm)
    environments = directory.environments(identity)
    chosen = next((e for e in environments if e.id == environment_id), None)
    if chosen is None:
        raise ApiError(
            404,
            "unknown_environment",
            f"{directory.label} has no environment {environment_id!r} for you. "
            "Choose one from the list.",
        )
    _connect(session, identity, crm, chosen.id)
    ordered = _most_recent_first(session, identity, crm, environments)
    return ConnectionState("connected", crm, chosen, ordered)


def choose_crm(
    session: Session, identity: Identity, directories: Mapping[str, Directory], crm: str
) -> ConnectionState:
    """Switch the rep to another CRM; its environments follow rule 3 like a first open."""
    _directory(directories, crm)
    row = _row_for_update(session, identity, crm)
    row.crm, row.environment_id, row.signed_out, row.updated_at = crm, None, False, utcnow()
    session.flush()
    return state(session, identity, directories, crm)


def sign_out(
    session: Session, identity: Identity, directories: Mapping[str, Directory], crm: str
) -> None:
    """Sign the rep out of the CRM in the pane; signing in again is then manual (rule 4)."""
    _directory(directories, crm).sign_out(identity)
    row = _row_for_update(session, identity, crm)
    row.signed_out, row.updated_at = True, utcnow()
    session.flush()


def sign_in(
    session: Session, identity: Identity, directories: Mapping[str, Directory], crm: str
) -> ConnectionState:
    """Sign the rep back in: to the environment they left when it is still theirs, else rule 3."""
    _directory(directories, crm)
    row = _row_for_update(session, identity, crm)
    if row.crm != crm:
        row.crm, row.environment_id = crm, None
    row.signed_out, row.updated_at = False, utcnow()
    session.flush()
    current = state(session, identity, directories, crm)
    if current.lost_environment:  # the old one is gone: a fresh start under rule 3
        row.environment_id = None
        session.flush()
        current = state(session, identity, directories, crm)
    return current


def _connect(session: Session, identity: Identity, crm: str, environment_id: str) -> None:
    now = utcnow()
    row = _row_for_update(session, identity, crm)
    row.crm, row.environment_id, row.signed_out, row.updated_at = crm, environment_id, False, now
    use = session.scalar(
        select(EnvironmentUse).where(
            EnvironmentUse.tenant_id == identity.tenant_id,
            EnvironmentUse.user_oid == identity.user_oid,
            EnvironmentUse.crm == crm,
            EnvironmentUse.environment_id == environment_id,
        )
    )
    if use is None:
        use = EnvironmentUse(
            tenant_id=identity.tenant_id,
            user_oid=identity.user_oid,
            crm=crm,
            environment_id=environment_id,
        )
        session.add(use)
    use.last_used_at = now
    session.flush()


def _most_recent_first(
    session: Session, identity: Identity, crm: str, environments: Sequence[Environment]
) -> tuple[Environment, ...]:
    rows = session.execute(
        select(EnvironmentUse.environment_id, EnvironmentUse.last_used_at).where(
            EnvironmentUse.tenant_id == identity.tenant_id,
            EnvironmentUse.user_oid == identity.user_oid,
            EnvironmentUse.crm == crm,
        )
    )
    last_used = {environment_id: when.timestamp() for environment_id, when in rows}
    # Most recent first; never-used ones after, production before sandbox, then by name.
    return tuple(
        sorted(
            environments,
            key=lambda e: (-last_used.get(e.id, float("-inf")), e.kind != "production", e.name),
        )
    )


def _row(session: Session, identity: Identity) -> CrmConnection | None:
    return session.scalar(
        select(CrmConnection).where(
            CrmConnection.tenant_id == identity.tenant_id,
            CrmConnection.user_oid == identity.user_oid,
        )
    )


def _row_for_update(session: Session, identity: Identity, crm: str) -> CrmConnection:
    row = _row(session, identity)
    if row is None:
        row = CrmConnection(
            tenant_id=identity.tenant_id, user_oid=identity.user_oid, crm=crm, signed_out=False
        )
        session.add(row)
    return row


def _directory(directories: Mapping[str, Directory], crm: str) -> Directory:
    try:
        return directories[crm]
    except KeyError:
        offered = ", ".join(sorted(directories))
        raise ApiError(
            404, "unknown_crm", f"This organisation uses {offered}, not {crm!r}."
        ) from None
