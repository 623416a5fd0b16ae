"""Delivery receipts the providers push: Alibaba's SmsReport and Tencent's status callback.

Each provider POSTs a JSON array of receipts to the address configured in its console,
``/care/sms/receipts/<provider>/<SMS_RECEIPT_TOKEN>`` (docs/sms.md). Neither signs its
pushes, so the shared secret in the address is what proves the sender; a wrong or
missing token is answered 404, as for a page that does not exist. Both may push a
receipt twice: applying one is idempotent (portal/care/operations.py).

Alibaba (HTTP 批量推送, SmsReport)::

    [{"phone_number": "1381111****", "send_time": "2017-01-01 00:00:00",
      "report_time": "2017-01-01 00:00:00", "success": true, "err_code": "DELIVERED",
      "err_msg": "用户接收成功", "sms_size": "1", "biz_id": "12345", "out_id": "67890"}]

    answer: {"code": 0, "msg": "接收成功"}

Tencent (短信下发状态通知)::

    [{"user_receive_time": "2015-10-17 08:03:04", "nationcode": "86",
      "mobile": "13xxxxxxxxx", "report_status": "SUCCESS", "errmsg": "DELIVRD",
      "description": "用户短信送达成功", "sid": "xxxxxxx"}]

    answer: {"result": 0, "errmsg": "OK"}
"""

import hmac

from flask import current_app

from portal.care.gateways import Receipt
from portal.care.providers import china_time

# More receipts than this in one push is not a provider's push.
MAX_RECEIPTS = 1000


class ReceiptError(ValueError):
    """The body is not a provider's receipt push; the message says what is wrong."""


def token_matches(token: str) -> bool:
    """Whether ``token`` is the configured receipts token (never when none is configured)."""
    expected = str(current_app.config.get("SMS_RECEIPT_TOKEN") or "")
    return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


def _text(item: dict, key: str, limit: int = 200) -> str:
    value = item.get(key)
    return "" if value is None else str(value).replace("\x00", "")[:limit]


def _items(payload) -> list[dict]:
    if not isinstance(payload, list) or not all(isinstance(item, dict) for item in payload):
        raise ReceiptError("expected a JSON array of receipts")
    if len(payload) > MAX_RECEIPTS:
        raise ReceiptError(f"more than {MAX_RECEIPTS} receipts in one push")
    return payload


def _aliyun(payload) -> list[Receipt]:
    receipts = []
    for item in _items(payload):
        reference, success = _text(item, "biz_id", 64), item.get("success")
        if not reference or not isinstance(success, bool):
            raise ReceiptError("each receipt needs biz_id and success (true or false)")
        receipts.append(
            Receipt(
                reference,
                success,
                _text(item, "err_code", 64),
                _text(item, "err_msg"),
                china_time(_text(item, "report_time")),
            )
        )
    return receipts


def _tencent(payload) -> list[Receipt]:
    receipts = []
    for item in _items(payload):
        reference, status = _text(item, "sid", 64), item.get("report_status")
        if not reference or status not in ("SUCCESS", "FAIL"):
            raise ReceiptError("each receipt needs sid and report_status (SUCCESS or FAIL)")
        receipts.append(
            Receipt(
                reference,
                status == "SUCCESS",
                _text(item, "errmsg", 64),
                _text(item, "description"),
                china_time(_text(item, "user_receive_time")),
            )
        )
    return receipts


PARSERS = {"aliyun": _aliyun, "tencent": _tencent}


def parse(provider: str, payload) -> list[Receipt]:
    """The receipts of one push; ReceiptError when the body is not one."""
    return PARSERS[provider](payload)


def answer(provider: str, error: str = "") -> dict:
    """The body each provider expects back: code/result 0 when taken, else 1 and why."""
    if provider == "aliyun":
        return {"code": 1, "msg": error} if error else {"code": 0, "msg": "接收成功"}
    return {"result": 1, "errmsg": error} if error else {"result": 0, "errmsg": "OK"}
