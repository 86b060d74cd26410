"""The core-banking system: how the bank reaches it (client) and how the mock behaves (server)."""
from config.env import env, env_secret
DEBUG = env.bool("DEBUG", default=False)

# Client side (every app, through outbox/core_client.py).
CORE_BANKING_URL = env.str("CORE_BANKING_URL", default="http://127.0.0.1:8001")
CORE_BANKING_API_KEY = env_secret("CORE_BANKING_API_KEY", debug=DEBUG, dev_default="dev-core-key-not-for-production")
CORE_BANKING_CONNECT_TIMEOUT = env.float("CORE_BANKING_CONNECT_TIMEOUT", default=2.0)
CORE_BANKING_READ_TIMEOUT = env.float("CORE_BANKING_READ_TIMEOUT", default=5.0)

# Mock side (corebanking_mock). It accepts the same API key the client sends.
CORE_MOCK_OPENING_CREDIT = env.int("CORE_MOCK_OPENING_CREDIT", default=1_000_000)
CORE_MOCK_IDEMPOTENCY_RETENTION_DAYS = env.int("CORE_MOCK_IDEMPOTENCY_RETENTION_DAYS", default=7)
# Fault injection (latency, errors, timeouts, downtime) for tests and experiments: off unless enabled.
CORE_MOCK_FAULTS_ENABLED = env.bool("CORE_MOCK_FAULTS_ENABLED", default=False)
CORE_MOCK_CONTROL_KEY = env_secret("CORE_MOCK_CONTROL_KEY", debug=DEBUG or not CORE_MOCK_FAULTS_ENABLED,
                                   dev_default="dev-core-control-key-not-for-production")
