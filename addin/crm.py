"""The CRM adapter a request talks to.

Today every rep uses the CRM the deployment names in ``CRM`` (the sandbox by default). The
environment picker (the pane's issue) and the Dynamics and Salesforce sign-ins replace
`_build` with the rep's own connected environment; views and services only ever call
`adapter()` and `environment_id()`.
"""

from __future__ import annotations

from flask import Flask, current_app, g

from crm_adapters import CrmAdapter, load_adapter

SANDBOX_ENVIRONMENT = "sandbox"


def adapter() -> CrmAdapter:
    """Return this request's adapter, connecting on first use."""
    if "crm_adapter" not in g:
        g.crm_adapter = _build()
    crm: CrmAdapter = g.crm_adapter
    return crm


def environment_id() -> str:
    """Return the id of the environment this request's adapter is connected to."""
    return SANDBOX_ENVIRONMENT


def _build() -> CrmAdapter:
    config = current_app.config
    adapter_class = load_adapter(config["CRM"])
    return adapter_class(  # type: ignore[call-arg]
        config["SANDBOX_PATH"], base_url=config["BASE_URL"], environment_id=SANDBOX_ENVIRONMENT
    )


def _close(_error: BaseException | None) -> None:
    crm: CrmAdapter | None = g.pop("crm_adapter", None)
    if crm is not None:
        crm.close()


def init_app(app: Flask) -> None:
    """Check the configured CRM exists and close adapters with each request."""
    load_adapter(app.config["CRM"])
    app.teardown_appcontext(_close)
