"""Sends two events of one issue with the real sentry-sdk, for the issue page's test.

Usage: python send_python_detail.py DSN
Each event: a RuntimeError raised from a json.JSONDecodeError (a chained exception whose
innermost frames are the standard library's), with source context and local variables,
breadcrumbs (a log line and an HTTP call), a user, a tag and a request. The first event's
message carries a <script> tag, which the page must show as text.
"""
import json
import logging
import sys
import time

import sentry_sdk


def add_request(event, hint):
    event["request"] = {
        "method": "POST",
        "url": "https://shop.example.com/checkout",
        "query_string": "step=payment&retry=1",
        "headers": {"Content-Type": "application/json", "User-Agent": "detail-test/1.0"},
        "data": {"cart": "c-1", "items": 3},
    }
    return event


sentry_sdk.init(
    dsn=sys.argv[1],
    release="storefront@3.1.0",
    environment="production",
    server_name="web-7",
    in_app_include=["__main__"],
    before_send=add_request,
)
sentry_sdk.set_user({"id": "7", "email": "dana@example.com", "username": "dana"})
sentry_sdk.set_tag("tenant", "acme")


def parse_order(text):
    return json.loads(text)


def checkout(payload):
    try:
        parse_order(payload)
    except ValueError as e:
        raise RuntimeError(f"checkout failed: {payload}") from e


for payload in ("<script>window.__owned=1</script>", '{"cart": '):
    logging.getLogger("shop.cart").warning("cart %s is slow", "c-1")
    # The page shows each breadcrumb's time before the error; keep it at least a few ms
    # (on a fast machine the two fell in the same millisecond: "0ms").
    time.sleep(0.005)
    sentry_sdk.add_breadcrumb(
        type="http",
        category="httplib",
        message="POST https://payments.example.com/authorize",
        data={"method": "POST", "status_code": 502},
    )
    try:
        checkout(payload)
    except RuntimeError as e:
        sentry_sdk.capture_exception(e)
    sentry_sdk.flush(timeout=10)

print("sent")
