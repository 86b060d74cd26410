"""Settings split by purpose: base.py (Django), database.py, celery.py, core_banking.py, api.py.
Environments: local.py (make run, DEBUG on), test.py (pytest), production.py (DEBUG off, secrets required)."""
