"""Loaded by the saving benchmark's sandbox worker: ``celery -A workers.app worker --include
bench.saving_worker``. Celery imports it in the main process before the pool forks, so every
worker process reads items from `bench.saving_mailbox` instead of the harness's dozen samples;
the app, the tasks, the store, the CRM adapter and the queue are the production ones.
"""

from bench.saving_mailbox import install

install()
