"""Background workers: Celery wired the Flask way.

`celery_init_app` gives Celery the app's configuration and runs every task inside
``app.app_context()``, so tasks call the same services as the views. Tasks take ids, never
objects. The broker defaults to the filesystem transport under the instance folder (nothing to
install for the demo); production sets ``SIDEPANE_BROKER_URL`` to Redis or RabbitMQ.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task
from flask import Flask


def broker_settings(app: Flask) -> dict[str, Any]:
    """Return Celery's broker settings for the app's configuration."""
    url = app.config["BROKER_URL"]
    if url:
        return {"broker_url": url}
    folder = os.path.join(app.instance_path, "broker")
    for sub in ("queue", "processed", "control"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    return {
        "broker_url": "filesystem://",
        "broker_transport_options": {
            "data_folder_in": os.path.join(folder, "queue"),
            "data_folder_out": os.path.join(folder, "queue"),
            "processed_folder": os.path.join(folder, "processed"),
            # Broadcast (pidbox) state; kombu's default is "control" in the working directory.
            "control_folder": os.path.join(folder, "control"),
            "store_processed": False,
        },
    }


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app bound to ``app`` and store it in ``app.extensions["celery"]``."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(
        {
            **broker_settings(app),
            # A job is acknowledged only once done, so a worker killed mid-job leaves it queued.
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "task_ignore_result": True,
            "broker_connection_retry_on_startup": True,
        }
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
