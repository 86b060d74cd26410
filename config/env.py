"""The single django-environ reader. Every knob is read here or in config/settings/*;
docs/configuration.md lists them."""
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env file (git-ignored) is read if present; real deployments set the environment directly.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(str(BASE_DIR / ".env"))

# Runtime files of the embedded default (SQLite databases, filesystem broker, mail files, beat schedule).
VAR_DIR = Path(env.str("BANK_VAR_DIR", default=str(BASE_DIR / "var")))


def env_secret(name: str, *, debug: bool, dev_default: str) -> str:
    """Read a secret from the environment.

    With DEBUG on, a clearly marked development default is allowed; with DEBUG off a missing
    secret is a configuration error, so a production process refuses to start.
    """
    value = env.str(name, default="")
    if value:
        return value
    if debug:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set in the environment when DEBUG is off.")
