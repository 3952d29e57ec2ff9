"""Background workers: Celery wired the Flask way.

`celery_init_app` gives Celery the app's configuration and runs every task inside
``app.app_context()``, so tasks call the same services as the views. Tasks take ids, never
objects. The broker defaults to the filesystem transport under the instance folder (nothing to
install for the demo); production sets ``SIDEPANE_BROKER_URL`` to Redis or RabbitMQ.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery, Task
from flask import Flask

log = logging.getLogger(__name__)


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
            # kombu's default (1 s) is slept whenever the worker cannot take a message, which
            # includes every time its prefetch slots are full: a worker then fetched only
            # about `concurrency` messages a second, however short the saves.
            "polling_interval": 0.05,
        },
    }


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app bound to ``app`` and store it in ``app.extensions["celery"]``."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask, include=["workers.tasks"])
    celery_app.config_from_object(
        {
            **broker_settings(app),
            # A job is acknowledged only once done, so a worker killed mid-job leaves it queued.
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "task_ignore_result": True,
            "broker_connection_retry_on_startup": True,
            # Deployments (and test runs) sharing one Redis keep to their own queue.
            "task_default_queue": app.config["TASK_QUEUE"],
            # No broadcast commands: nothing here uses them, and on a shared broker they cross.
            "worker_enable_remote_control": False,
            # A web request that cannot reach the broker must answer anyway: the job is in the
            # store and the sweep sends it once the broker is back.
            "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0.2},
            "beat_schedule": {
                "sweep": {
                    "task": "sidepane.sweep",
                    "schedule": float(app.config["SAVE_SWEEP_SECONDS"]),
                },
                "save-replies": {
                    "task": "sidepane.save_replies",
                    "schedule": float(app.config["REPLY_CHECK_SECONDS"]),
                },
            },
        }
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def enqueue_save(job_id: str) -> bool:
    """Send a save job to the workers; False when the broker cannot be reached right now.

    The job is already stored, so nothing is lost: the sweep sends it once the broker is back.
    """
    return _send("sidepane.save", job_id)


def enqueue_provisioning(run_id: str) -> bool:
    """Send a provisioning run to the workers; the sweep sends it again if this is lost."""
    return _send("sidepane.provision", run_id)


def _send(task: str, row_id: str) -> bool:
    from flask import current_app

    celery_app: Celery = current_app.extensions["celery"]
    try:
        celery_app.send_task(task, args=(row_id,))
    except Exception:  # kombu raises many kinds (OperationalError, OSError...) when it is down
        log.warning("the broker did not take %s %s; the sweep will send it", task, row_id)
        return False
    return True
