"""Sidepane's web app: the pane's JSON API, its pages, and the identity check in front of them.

``create_app`` follows Flask's application-factory pattern: defaults, then ``SIDEPANE_*``
environment variables, then the test mapping. Each resource (store, CRM, identity, Celery)
registers itself through its own ``init_app``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from . import config


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from defaults, the environment and an optional test mapping."""
    # SIDEPANE_INSTANCE_PATH moves all local files (store, sandbox, queue) elsewhere, e.g. tests.
    instance = os.environ.get("SIDEPANE_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance) if instance else None,
        instance_relative_config=True,
    )
    app.config.from_mapping(config.defaults(app.instance_path))
    app.config.from_prefixed_env("SIDEPANE")
    if test_config is not None:
        app.config.from_mapping(test_config)
    config.finish(app.config)

    from workers import celery_init_app

    from . import auth, crm, errors, health, i18n, store
    from .admin import admin
    from .api import api
    from .harness import harness
    from .home import home
    from .pane import pane
    from .records import records
    from .sign_in import sign_in

    errors.init_app(app)
    i18n.init_app(app)
    store.init_app(app)
    crm.init_app(app)
    auth.init_app(app)
    health.init_app(app)
    app.register_blueprint(api)
    app.register_blueprint(pane)
    app.register_blueprint(admin)
    app.register_blueprint(harness)
    app.register_blueprint(records)
    app.register_blueprint(home)
    app.register_blueprint(sign_in)
    celery_init_app(app)
    return app
