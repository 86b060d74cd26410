# gunicorn reads ./gunicorn.conf.py by default: the stack's processes get the observability hooks without a flag.
from config.gunicorn_conf import *  # noqa: F401,F403
