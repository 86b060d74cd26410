"""`make run`: DEBUG on, embedded SQLite + filesystem broker unless the environment says otherwise."""
import os

os.environ.setdefault("DEBUG", "true")

from config.settings.base import *  # noqa: E402,F401,F403
