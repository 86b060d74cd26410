"""The core-banking system: how the bank reaches it (client) and how the mock behaves (server)."""
from config.env import env, env_secret

DEBUG = env.bool("DEBUG", default=False)

# Client side (every app, through outbox/core_banking/client.py).
CORE_BANKING_URL = env.str("CORE_BANKING_URL", default="http://127.0.0.1:8001")
CORE_BANKING_API_KEY = env_secret("CORE_BANKING_API_KEY", debug=DEBUG, dev_default="dev-core-key-not-for-production")
CORE_BANKING_CONNECT_TIMEOUT = env.float("CORE_BANKING_CONNECT_TIMEOUT", default=2.0)
CORE_BANKING_READ_TIMEOUT = env.float("CORE_BANKING_READ_TIMEOUT", default=5.0)
# The codec of the core's wire version: the module that names the fields of requests and answers
# (outbox/core_banking/wire_v1.py for today's core). Moving to a new core version means a new codec module here,
# nothing else in the bank.
CORE_BANKING_WIRE_CODEC = env.str("CORE_BANKING_WIRE_CODEC", default="outbox.core_banking.wire_v1")

# Mock side (corebanking_mock). It accepts the same API key the client sends.
CORE_MOCK_OPENING_CREDIT = env.int("CORE_MOCK_OPENING_CREDIT", default=1_000_000)
CORE_MOCK_IDEMPOTENCY_RETENTION_DAYS = env.int("CORE_MOCK_IDEMPOTENCY_RETENTION_DAYS", default=7)
# The mock's wire version: "v1" (api.md) or "v2" (the same API with renamed fields, corebanking_mock/wire_versions.py;
# the replaceability experiment).
CORE_MOCK_WIRE = env.str("CORE_MOCK_WIRE", default="v1")
# Fault injection (latency, errors, timeouts, downtime) for tests and experiments: off unless enabled.
CORE_MOCK_FAULTS_ENABLED = env.bool("CORE_MOCK_FAULTS_ENABLED", default=False)
CORE_MOCK_CONTROL_KEY = env_secret("CORE_MOCK_CONTROL_KEY", debug=DEBUG or not CORE_MOCK_FAULTS_ENABLED,
                                   dev_default="dev-core-control-key-not-for-production")

# Initial fault values from the environment (the mock's baseline for the `all` group, used while no
# `all` row has been written through POST /core/_faults). They act only when CORE_MOCK_FAULTS_ENABLED.
# Answer every /api route and /core/health with 503.
CORE_MOCK_FAULT_DOWN = env.bool("CORE_MOCK_FAULT_DOWN", default=False)
# Added delay before each /api request is handled, in milliseconds.
CORE_MOCK_FAULT_LATENCY_MS = env.int("CORE_MOCK_FAULT_LATENCY_MS", default=0)
# Share (0-1) of /api requests answered 500 without doing anything.
CORE_MOCK_FAULT_ERROR_RATE = env.float("CORE_MOCK_FAULT_ERROR_RATE", default=0.0)
# Share (0-1) of /api requests that hang for CORE_MOCK_FAULT_HANG_SECONDS, then answer 504, without doing anything.
CORE_MOCK_FAULT_TIMEOUT_RATE = env.float("CORE_MOCK_FAULT_TIMEOUT_RATE", default=0.0)
# Share (0-1) of applied POSTs that commit their effect, then hang for the hang time and answer 504 (a lost reply).
CORE_MOCK_FAULT_BLACKHOLE_RATE = env.float("CORE_MOCK_FAULT_BLACKHOLE_RATE", default=0.0)
# How long a timeout or blackhole hangs (seconds; past the client's read timeout). Also the default for API-set faults.
CORE_MOCK_FAULT_HANG_SECONDS = env.float("CORE_MOCK_FAULT_HANG_SECONDS", default=10.0)
# Seed of the per-process random generator that picks the failing requests (empty: unseeded).
CORE_MOCK_FAULT_SEED = env.int("CORE_MOCK_FAULT_SEED", default=None)
