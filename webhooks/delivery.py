"""One signed POST. The signature is the `standardwebhooks` package's, so any
Standard Webhooks library verifies it. The standard library's HTTP client does the
request: one POST with a timeout needs nothing more."""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from standardwebhooks.webhooks import Webhook

BODY_KEPT = 2000
USER_AGENT = "Segments-Webhooks/1"


@dataclass(frozen=True)
class Delivery:
    status_code: int | None
    body: str = ""
    error: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def summary(self) -> str:
        return f"HTTP {self.status_code}" if self.status_code else self.error


def signed_headers(
    *, secret: str, message_id: str, body: str, now: datetime
) -> dict[str, str]:
    signature = Webhook(secret).sign(message_id, now, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def post_signed(
    *, url: str, secret: str, message_id: str, payload: Any, now: datetime
) -> Delivery:
    body = json.dumps(payload, separators=(",", ":"))
    headers = signed_headers(secret=secret, message_id=message_id, body=body, now=now)
    request = urllib.request.Request(
        url, data=body.encode(), headers=headers, method="POST"
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(
            request, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS
        ) as response:
            return Delivery(response.status, _read(response), "", _ms(started))
    except urllib.error.HTTPError as exc:
        return Delivery(exc.code, _read(exc), "", _ms(started))
    except (OSError, ValueError) as exc:  # refused, timed out, bad URL
        return Delivery(None, "", f"{type(exc).__name__}: {exc}"[:500], _ms(started))


def _read(response) -> str:
    return response.read(BODY_KEPT).decode("utf-8", "replace")


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
