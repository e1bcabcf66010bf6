"""An application whose data is hostile markup, reported with the real sentry-sdk.

Usage: SENTRY_DSN=... EVIL='<markup>' python hostile_app.py
One event: an exception whose value, a local variable, a tag, the user, a breadcrumb and
the transaction all hold the markup, and a message formatted from bytes that are not UTF-8
(a lone surrogate once `surrogateescape`d: what a Python app gets from a Latin-1 file name).
"""
import logging
import os

import sentry_sdk

evil = os.environ["EVIL"]
sentry_sdk.init(dsn=os.environ["SENTRY_DSN"], release="xss@1.0", environment="<i>prod</i>")
sentry_sdk.set_user({"id": evil, "email": "x@example.com", "username": evil})
sentry_sdk.set_tag("evil", evil[:200])
sentry_sdk.set_transaction_name(evil[:100])
logging.warning("opened %s", b"caf\xe9.csv".decode("utf-8", "surrogateescape"))


def checkout(cart):
    note = evil
    raise ValueError(note + cart)


try:
    checkout(" <cart>")
except ValueError:
    sentry_sdk.capture_exception()
sentry_sdk.flush(5)
