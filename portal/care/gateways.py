"""Message gateways: where a greeting goes once it is in the outbox, and how a
password-reset code reaches a borrower's phone (portal/accounts/resets.py).

A gateway has one method, ``send(message) -> SendResult``; it never touches the
database. Its settings are read from the app config (portal/settings.py):

- ``CARE_GATEWAY``: ``log`` (default) or ``webhook``;
- ``CARE_WEBHOOK_URL``: where ``webhook`` POSTs its JSON;
- ``CARE_WEBHOOK_TIMEOUT``: seconds to wait for the answer (default 10).
"""

import logging
from dataclasses import asdict, dataclass
from typing import Protocol

import requests
from flask import current_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """A text for one borrower as a gateway sees it: plain data, no ORM object.

    ``occasion`` says what it is: a greeting's occasion code, or ``password_reset``.
    """

    id: int
    idempotency_key: str
    occasion: str
    year: int
    locale: str
    text: str
    borrower_id: int
    borrower_name: str
    mobile: str


@dataclass(frozen=True)
class SendResult:
    """What happened: ``ok``, or the error to record."""

    ok: bool
    error: str = ""


class Gateway(Protocol):
    """Anything that can deliver a greeting."""

    name: str
    # Whether a message really reaches the borrower's phone.
    delivers: bool

    def send(self, message: Message) -> SendResult: ...


class LogGateway:
    """Writes one log line per greeting; the outbox row is the record."""

    name = "log"
    delivers = False

    def send(self, message: Message) -> SendResult:
        # The text and phone number stay out of the log: it is not a place for personal
        # data, nor for a password-reset code.
        log.info("message %s (%s) sent to borrower %s", message.id, message.occasion,
                 message.borrower_id)  # fmt: skip
        return SendResult(ok=True)


class WebhookGateway:
    """POSTs the greeting as JSON; any 2xx answer counts as delivered."""

    name = "webhook"
    delivers = True

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, message: Message) -> SendResult:
        try:
            response = requests.post(
                self.url,
                json=asdict(message),
                timeout=self.timeout,
                headers={"Idempotency-Key": message.idempotency_key},
                allow_redirects=False,
            )
        except requests.Timeout:
            return SendResult(False, f"no answer within {self.timeout:g} s")
        except requests.RequestException as error:
            return SendResult(False, f"{type(error).__name__}: {error}"[:500])
        if 200 <= response.status_code < 300:
            return SendResult(True)
        return SendResult(False, f"HTTP {response.status_code}: {response.text[:200]}")


class ConfigurationError(RuntimeError):
    """The care settings name something that cannot work."""


def configured_gateway() -> Gateway:
    """The gateway the settings ask for."""
    config = current_app.config
    name = str(config["CARE_GATEWAY"]).strip().lower()
    if name == "log":
        return LogGateway()
    if name == "webhook":
        url = str(config["CARE_WEBHOOK_URL"])
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(
                "CARE_WEBHOOK_URL must be an http(s) URL for CARE_GATEWAY=webhook"
            )
        return WebhookGateway(url, float(config["CARE_WEBHOOK_TIMEOUT"]))
    raise ConfigurationError(f"unknown CARE_GATEWAY {name!r}; use 'log' or 'webhook'")
