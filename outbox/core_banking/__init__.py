"""The bank's side of the core-banking integration: the HTTP client (`client`) that the relay's money legs, account
provisioning and balance reconciliation all call, the wire codecs of the core's API versions (`wire_v1`, `wire_v2`:
the client reads every body through the one CORE_BANKING_WIRE_CODEC names), and the circuit breaker (`breaker`) the
relay puts in front of it.

The core-banking system is external (here: corebanking_mock, served by its own process); nothing in the bank imports
it, every call goes over HTTP through `client`.
"""
