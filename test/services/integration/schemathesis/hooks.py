"""Schemathesis hooks for the gateway's property-based run (fuzz.test.ts).

Authentication: a real access token of a signed-up customer, obtained by logging in through the
gateway with FUZZ_EMAIL / FUZZ_PASSWORD and refreshed on a 401. Logout revokes the token it is
sent with, so each logout case logs in on its own: the shared token stays valid for the run.
"""

import itertools
import os

import requests
import schemathesis

_logouts = itertools.count()


def _log_in() -> str:
    response = requests.post(
        f"{os.environ['FUZZ_BASE_URL']}/v1/auth/login",
        json={"email": os.environ["FUZZ_EMAIL"], "password": os.environ["FUZZ_PASSWORD"]},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["accessToken"]


def _token_key(case, context):
    # A key of its own for every logout case (never cached); one shared key for the rest.
    if context.operation.path == "/v1/auth/logout":
        return f"logout-{next(_logouts)}"
    return "shared"


@schemathesis.auth(refresh_interval=300, cache_by_key=_token_key)
class CustomerToken:
    def get(self, case, context):
        return _log_in()

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
