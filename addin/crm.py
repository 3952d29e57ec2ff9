"""The CRM a request talks to: the rep's connected environment, through its directory.

``CRMS`` names the CRMs this deployment offers (the first is where a new rep starts). Each has
a directory (`addin.connections`) that lists the rep's environments and opens adapters. Views
and services only ever call `connection()`, `environment()` and `adapter()`.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, abort, current_app, g

from crm_adapters import CrmAdapter, load_adapter
from crm_adapters.models import Environment

from . import connections, store
from .auth import current_identity
from .connections import ConnectionState, Directory
from .connections.sandbox import SandboxDirectory
from .errors import ApiError

#: Directory of each CRM, as "module:Class"; each is built by ``from_app(app)``.
DIRECTORIES = {
    "sandbox": "addin.connections.sandbox:SandboxDirectory",
    "dynamics": "addin.connections.dynamics:DynamicsDirectory",
    "salesforce": "addin.connections.salesforce:SalesforceDirectory",
}


def directories() -> Mapping[str, Directory]:
    """Return the directories of the CRMs this deployment offers, by name."""
    found: Mapping[str, Directory] = current_app.extensions["crm_directories"]
    return found


def sandbox_directory() -> SandboxDirectory:
    """Return the sandbox's directory; 404 when this deployment does not offer the sandbox."""
    directory = directories().get("sandbox")
    if not isinstance(directory, SandboxDirectory):
        abort(404)
    return directory


def default_crm() -> str:
    """Return the CRM a rep starts with."""
    crms: list[str] = current_app.config["CRMS"]
    return crms[0]


def connection() -> ConnectionState:
    """Return the calling rep's connection, connecting by rule 3 on first open."""
    if "crm_connection" not in g:
        identity = current_identity()
        if features_off(identity.tenant_id):
            g.crm_connection = ConnectionState("turned_off", default_crm())
        else:
            g.crm_connection = connections.state(
                store.session(), identity, directories(), default_crm()
            )
    found: ConnectionState = g.crm_connection
    return found


def features_off(tenant_id: str) -> bool:
    """Tell whether the tenant's reps must wait for their admin to turn the CRM features on."""
    from .services import provisioning

    if not current_app.config["REQUIRE_PROVISIONING"]:
        return False
    return not provisioning.features_on(store.session(), tenant_id)


def forget_connection() -> None:
    """Drop this request's view of the connection after the rep changed it."""
    g.pop("crm_connection", None)
    _close(None)


def environment() -> Environment:
    """Return the rep's connected environment, or refuse with what to do."""
    state = connection()
    if state.environment is not None:
        return state.environment
    if state.status == "turned_off":
        raise ApiError(
            409,
            "crm_features_off",
            "Your organisation's CRM features are not turned on yet. Ask your admin to turn "
            "them on in Sidepane's admin settings.",
        )
    if state.status == "signed_out":
        raise ApiError(409, "signed_out", "You signed out of the CRM. Sign in again in the pane.")
    if state.status == "no_environments":
        raise ApiError(
            409,
            "no_environments",
            "Your account has no CRM environment. Ask your admin to give you access to one.",
        )
    raise ApiError(
        409,
        "choose_environment",
        "You have several CRM environments: choose one in the pane first.",
    )


def environment_id() -> str:
    """Return the id of the environment this request's adapter is connected to."""
    return environment().id


def adapter() -> CrmAdapter:
    """Return this request's adapter on the rep's environment, opening it on first use."""
    if "crm_adapter" not in g:
        env = environment()
        g.crm_adapter = directories()[env.crm].adapter(env, current_identity())
    crm: CrmAdapter = g.crm_adapter
    return crm


def _close(_error: BaseException | None) -> None:
    crm: CrmAdapter | None = g.pop("crm_adapter", None)
    if crm is not None:
        crm.close()


def _build_directories(app: Flask) -> dict[str, Directory]:
    from importlib import import_module

    built: dict[str, Directory] = {}
    for name in app.config["CRMS"]:
        load_adapter(name)  # an unknown name fails here, with the registry's "did you mean"
        module_name, _, class_name = DIRECTORIES[name].partition(":")
        directory_class = getattr(import_module(module_name), class_name)
        built[name] = directory_class.from_app(app)
    return built


def init_app(app: Flask) -> None:
    """Build the directories of the configured CRMs and close adapters with each request."""
    app.extensions["crm_directories"] = _build_directories(app)
    app.teardown_appcontext(_close)
