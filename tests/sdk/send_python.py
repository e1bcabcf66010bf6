"""Sends errors to Faultline with the real sentry-sdk, as an application would.

Usage: python send_python.py DSN [gzip]
Events: ZeroDivisionError twice (same place), KeyError, ValueError, a message, and two
different exceptions sharing a custom fingerprint.
"""
import sys

import sentry_sdk

dsn = sys.argv[1]
options = {}
if len(sys.argv) > 2 and sys.argv[2] == "gzip":
    options["_experiments"] = {"transport_compression_algo": "gzip"}
sentry_sdk.init(dsn=dsn, release="shop@2.0.0", environment="staging", **options)
sentry_sdk.set_user({"id": "42", "email": "ann@example.com"})
sentry_sdk.set_tag("tenant", "acme")


def divide(a, b):
    return a / b


def lookup(table, key):
    return table[key]


def parse(text):
    return int(text)


for _ in range(2):
    try:
        divide(1, 0)
    except ZeroDivisionError as e:
        sentry_sdk.capture_exception(e)

try:
    lookup({}, "id")
except KeyError as e:
    sentry_sdk.capture_exception(e)

try:
    parse("not a number")
except ValueError as e:
    sentry_sdk.capture_exception(e)

sentry_sdk.capture_message("Payment failed for order 1234", level="warning")

for exc in (TimeoutError("gateway timed out"), ConnectionError("gateway refused")):
    with sentry_sdk.new_scope() as scope:
        scope.fingerprint = ["payment-gateway"]
        try:
            raise exc
        except Exception as e:
            sentry_sdk.capture_exception(e)

sentry_sdk.flush(timeout=10)
print("sent")
