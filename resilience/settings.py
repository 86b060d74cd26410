"""Settings of every process of a resilience run: the production settings plus the harness's fault switches
(resilience/fault_switches.py). Secrets, databases, broker and the core mock's fault switch come from the
environment the harness builds for each run."""
from config.settings.production import *  # noqa: F401,F403
from config.settings.production import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "resilience.fault_switches.FaultSwitchesConfig"]
