"""Real Celery worker processes saving through real brokers, stores, emulators and kills."""
