"""The product's `resilience` app: no models, no signal handlers; it provides `manage.py resilience`
(resilience/management/commands/resilience.py). The harness's fault switches are a separate app
(resilience/fault_switches.py) that only the harness settings load."""
from django.apps import AppConfig


class ResilienceConfig(AppConfig):
    name = "resilience"
    label = "resilience"
    verbose_name = "Resilience comparator"
