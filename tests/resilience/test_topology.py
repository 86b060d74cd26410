"""resilience/topology.py: E19's route→pool map against every URL pattern of config/urls.py, the generated HAProxy
config, and the equal-capacity sizing of the two topologies (pure: no stack)."""
import re

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from resilience import topology
from resilience.stack import WEB_WORKERS

# Every named route of config/urls.py (outside the Django admin's own namespace) and the pool it belongs to: a
# new route fails test_every_url_pattern_is_assigned_a_pool until it is listed here with its pool.
EXPECTED_POOL = {
    "healthz": "read", "metrics": "read", "config-json": "read", "api-schema": "read",
    "core-faults": "accounts",
    # /v1/ API
    "auth-login": "read", "auth-verify": "read", "auth-logout": "read", "auth-password": "read",
    "users-register": "accounts",
    "balance-get": "read", "account-transactions": "read",
    "transfer-request": "transfers", "transfer-request-alias": "transfers", "transfer-status": "transfers",
    "transfer-events": "accounts", "transfer-abort": "accounts", "transfer-compensate": "accounts",
    "account-application-create": "accounts", "account-application-status": "accounts",
    "account-application-approve": "accounts", "account-application-reject": "accounts",
    "admin-account-applications": "accounts", "admin-account-application-credentials": "accounts",
    "admin-account-application-events": "accounts",
    "outbox-message-list": "accounts", "outbox-message-replay": "accounts", "stuck-item-list": "accounts",
    # pages
    "home": "read", "set_language": "read", "web-login": "read", "web-logout": "read", "password-change": "read",
    "dashboard": "read", "history": "read",
    "transfer-input": "transfers", "transfer-submit": "transfers", "transfer-status-steps": "transfers",
    "apply-personal": "accounts", "apply-contact": "accounts", "apply-review": "accounts", "apply-done": "accounts",
    "apply-terms": "accounts",
}
SAMPLE_KWARGS = {"account_id": "ACC-0001", "transaction_id": "TX-0001", "application_id": "APP-0123abcd",
                 "message_id": 7}


def _named_routes() -> list[tuple[str, URLPattern]]:
    """(name, pattern) of every named route outside the admin namespace; page and API routes can share a name
    (transfer-status), so names are returned once per pattern."""
    found: list[tuple[str, URLPattern]] = []

    def walk(patterns, namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, entry.namespace or namespace)
            elif namespace is None and entry.name:
                found.append((entry.name, entry))

    walk(get_resolver().url_patterns, None)
    return found


def _sample_paths(name: str) -> set[str]:
    """Every path the route `name` can reverse to with sample arguments (the same name may be a page and an API
    route: both must map to the same pool)."""
    from django.urls import get_resolver as resolver

    paths = set()
    for possibility, _pattern, defaults, _converters in resolver().reverse_dict.getlist(name):
        for _result, params in possibility:
            kwargs = {key: SAMPLE_KWARGS[key] for key in params if key not in defaults}
            paths.add(reverse(name, kwargs=kwargs or None))
    return paths


def test_every_url_pattern_is_assigned_a_pool():
    # given every named route of config/urls.py
    names = {name for name, _pattern in _named_routes()}
    # then each is listed with its pool, and nothing listed is gone from the URL conf
    assert names - set(EXPECTED_POOL) == set()
    assert set(EXPECTED_POOL) - names == set()


def test_each_route_reaches_its_pool_through_the_rules():
    # when every named route's path goes through the same first-match rules HAProxy uses
    wrong = {name: (path, topology.pool_for_path(path)) for name in EXPECTED_POOL for path in _sample_paths(name)
             if topology.pool_for_path(path) != EXPECTED_POOL[name]}
    # then it lands in its pool
    assert wrong == {}


def test_admin_site_unknown_v1_paths_and_single_topology():
    # the Django admin (staff) goes with account opening; an unknown /v1/ path gets the read pool's 403 answer
    assert topology.pool_for_path(reverse("admin:index")) == "accounts"
    assert topology.pool_for_path("/admin/auth/user/1/change/") == "accounts"
    assert topology.pool_for_path("/v1/api/nothing-here") == "read"
    # history of an account is the read side even though it sits under /v1/api/accounts/
    assert topology.pool_for_path("/v1/api/accounts/ACC-1/transactions") == "read"
    assert topology.pool_for_path("/v1/api/accounts/ACC-1/transactions/x") == "accounts"
    assert topology.pool_for_path("/v1/api/transfer", topology="single") == "single"


def test_haproxy_config_routes_by_the_same_rules_with_one_checked_backend_per_pool():
    # when
    config = topology.haproxy_config(topology="bulkheads", frontend_port=18201,
                                     pool_ports={"read": 18202, "transfers": 18203, "accounts": 18204})
    # then the ACLs are the rules in order, each pool is a backend with a health check on its own port
    rules = re.findall(r"acl (rule\d+) path_reg (\S+)\n  use_backend (\w+) if \1", config)
    assert [(pattern, pool) for _rule, pattern, pool in rules] == \
        [(pattern, pool) for pool, pattern in topology.ROUTE_RULES]
    assert "default_backend read" in config and "bind 127.0.0.1:18201" in config
    for pool, port in (("read", 18202), ("transfers", 18203), ("accounts", 18204)):
        backend = config.split(f"\nbackend {pool}\n")[1].split("\nbackend ")[0]
        assert f"server {pool}1 127.0.0.1:{port} check" in backend
        # one server per backend: a busy pool is not ejected after one slow check (only after 3 s of failures)
        assert "inter 1s fall 3" in backend and "option httpchk GET /healthz" in backend


def test_single_topology_has_one_backend_and_no_path_rules():
    config = topology.haproxy_config(topology="single", frontend_port=18210, pool_ports={"single": 18211})
    assert "acl " not in config
    assert config.count("\nbackend ") == 1 and "default_backend single" in config


def test_both_topologies_have_the_same_web_and_worker_capacity():
    # same capacity, different partitioning (as E4b): the comparison measures the partitioning alone
    single, bulkheads = topology.TOPOLOGIES["single"], topology.TOPOLOGIES["bulkheads"]
    assert sum(pool.workers for pool in single["pools"]) == sum(pool.workers for pool in bulkheads["pools"]) \
        == WEB_WORKERS
    assert sum(group.concurrency for group in single["workers"]) == \
        sum(group.concurrency for group in bulkheads["workers"])
    # one Celery worker group per queue in the bulkheads topology, every queue covered in both
    queues = [group.queues for group in bulkheads["workers"]]
    assert sorted(queues) == ["core", "default", "notify"]
    assert set(single["workers"][0].queues.split(",")) == set(queues)
