"""Message gateways: where a greeting goes once it is in the outbox, and how a
password-reset code reaches a borrower's phone (portal/accounts/resets.py).

A gateway has one method, ``send(message) -> SendResult``; it never touches the
database. Its settings are read from the app config (portal/settings.py):

- ``CARE_GATEWAY``: ``log`` (default), ``webhook``, ``aliyun`` or ``tencent``;
- ``CARE_WEBHOOK_URL``: where ``webhook`` POSTs its JSON;
- ``CARE_WEBHOOK_TIMEOUT``: seconds to wait for the answer (default 10);
- ``aliyun`` and ``tencent`` (Alibaba Cloud and Tencent Cloud SMS, through their
  official SDKs) send only the provider's approved templates: portal/care/providers.py,
  portal/care/sms_templates.py and docs/sms.md.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import requests
from flask import current_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """A text for one borrower as a gateway sees it: plain data, no ORM object.

    ``occasion`` says what it is: a greeting's occasion code, or ``password_reset``.
    ``values`` are what a provider's approved template is filled with (``name``,
    ``branch``… for a greeting; docs/sms.md); ``text`` is the portal's own wording,
    which the ``log`` and ``webhook`` gateways use.
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
    values: Mapping[str, str] = field(default_factory=dict)
    # A birthday or holiday greeting: without a template of its own at a provider, it
    # takes the general holiday one (docs/sms.md).
    greeting: bool = False

    def as_json(self) -> dict:
        """The webhook's JSON body (docs/care.md): the message without its template values."""
        return {
            "id": self.id,
            "idempotency_key": self.idempotency_key,
            "occasion": self.occasion,
            "year": self.year,
            "locale": self.locale,
            "text": self.text,
            "borrower_id": self.borrower_id,
            "borrower_name": self.borrower_name,
            "mobile": self.mobile,
        }


@dataclass(frozen=True)
class SendResult:
    """What happened: ``ok``, or the error to record.

    ``retry`` is False when sending the same message again cannot succeed (a provider
    refused the template or the number): the greeting is failed at once instead of
    retried. ``reference`` is the provider's id of a sent message, which its delivery
    receipt names; ``code`` the provider's answer code.
    """

    ok: bool
    error: str = ""
    retry: bool = True
    reference: str = ""
    code: str = ""


@dataclass(frozen=True)
class Receipt:
    """A provider's word on a sent message: delivered to the phone, or not, and why."""

    reference: str
    delivered: bool
    code: str = ""
    description: str = ""
    when: datetime | None = None


@dataclass(frozen=True)
class SentMessage:
    """What a provider's status query needs of a sent message."""

    reference: str
    mobile: str
    sent_at: datetime


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
                json=message.as_json(),
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
    if name in ("aliyun", "tencent"):
        from portal.care import providers  # the SDKs load only where they are used

        return providers.configured(name)
    raise ConfigurationError(
        f"unknown CARE_GATEWAY {name!r}; use 'log', 'webhook', 'aliyun' or 'tencent'"
    )
