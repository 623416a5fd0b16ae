"""Alibaba Cloud SMS and Tencent Cloud SMS answered from a real HTTP server on loopback.

The portal talks to it through the providers' own SDKs (their endpoint is a setting),
and it answers as the providers' APIs do, in the shapes their documentation gives and
the SDKs parse:

- Alibaba (dysmsapi 2017-05-25, RPC style): the action in ``x-acs-action``, the
  parameters in the query string, an ``ACS3-HMAC-SHA256`` Authorization header; HTTP 200
  with ``{"Code": "OK", "BizId": …}``, or 200 with an error ``Code``
  (``isv.BUSINESS_LIMIT_CONTROL``, ``isv.SMS_TEMPLATE_ILLEGAL``); flow control of the
  API itself is HTTP 400 ``Throttling.User``.
- Tencent (sms 2021-01-11): the action in ``X-TC-Action``, a JSON body, a
  ``TC3-HMAC-SHA256`` Authorization header; ``{"Response": {"SendStatusSet": [{"Code":
  "Ok", "SerialNo": …}], "RequestId": …}}``, a per-number error ``Code``
  (``LimitExceeded.PhoneNumberDailyLimit``, ``FailedOperation.TemplateIncorrectOrUnapproved``),
  or a request error ``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``.

A planned ``"drop"`` closes the connection without an answer: a network error.
"""

import json
import threading
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

ALIYUN_ANSWERS = {
    "ok": (200, {"Code": "OK", "Message": "OK"}),
    "throttled": (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控Permits:10"}),
    "rejected": (200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "该账号下找不到对应模板"}),
    "api-throttled": (
        400,
        {
            "Code": "Throttling.User",
            "Message": "Request was denied due to user flow control.",
            "HostId": "dysmsapi.aliyuncs.com",
        },
    ),
}
TENCENT_STATUSES = {
    "ok": ("Ok", "send success"),
    "throttled": (
        "LimitExceeded.PhoneNumberDailyLimit",
        "the number of sms messages sent from a single mobile number every day exceeds the upper limit",
    ),
    "rejected": (
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "template is not approved or request content does not match the approved template content",
    ),
}
TENCENT_ERRORS = {
    "auth-failure": (
        "AuthFailure.SignatureFailure",
        "The provided credentials could not be validated. Please check your signature is correct.",
    ),
}


class QuietServer(ThreadingHTTPServer):
    """A dropped connection (a planned network error) is not an error of the test."""

    def handle_error(self, request, client_address):
        pass


class ProviderServer:
    """Records every request; answers each send with the next planned answer (default ok).

    ``statuses`` holds what a status query answers, by the provider's message id:
    ``("delivered" | "failed" | "waiting", code, receive time)``.
    """

    def __init__(self, provider: str):
        self.provider = provider
        self.requests: list[dict] = []
        self.answers: deque = deque()
        self.statuses: dict[str, tuple] = {}
        self.lock = threading.Lock()
        self.sequence = 0
        self.httpd = QuietServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    def plan(self, *answers: str) -> None:
        self.answers.extend(answers)

    def sends(self) -> list[dict]:
        return [request for request in self.requests if request["action"] == "SendSms"]

    def _next_reference(self) -> str:
        self.sequence += 1
        if self.provider == "aliyun":
            return f"90061974693649{self.sequence:02d}^0"
        return f"2433:{3_000_000_000 + self.sequence}"

    def _answer(self, action: str, params: dict) -> tuple[int, dict] | None:
        with self.lock:
            answer = self.answers.popleft() if self.answers and action == "SendSms" else "ok"
        if answer == "drop":
            return None
        if self.provider == "aliyun":
            return self._aliyun(action, params, answer)
        return self._tencent(action, params, answer)

    def _aliyun(self, action, params, answer):
        request_id = str(uuid.uuid4()).upper()
        if action == "QuerySendDetails":
            return 200, self._aliyun_details(params, request_id)
        status, body = ALIYUN_ANSWERS[answer]
        body = {**body, "RequestId": request_id}
        if answer == "ok":
            body["BizId"] = self._next_reference()
        return status, body

    def _aliyun_details(self, params, request_id):
        state, code, received = self.statuses.get(params.get("BizId"), ("waiting", "", ""))
        detail = {
            "SendDate": "2026-11-26 10:00:01",
            "SendStatus": {"waiting": 1, "failed": 2, "delivered": 3}[state],
            "ReceiveDate": received,
            "ErrCode": code,
            "TemplateCode": "SMS_480000001",
            "Content": "【众兴】王小明您好！……拒收请回复R",
            "PhoneNum": params.get("PhoneNumber"),
            "OutId": "",
        }
        return {
            "Code": "OK",
            "Message": "OK",
            "RequestId": request_id,
            "TotalCount": 1,
            "SmsSendDetailDTOs": {"SmsSendDetailDTO": [detail]},
        }

    def _tencent(self, action, params, answer):
        request_id = str(uuid.uuid4())
        if answer in TENCENT_ERRORS:
            code, message = TENCENT_ERRORS[answer]
            return 200, {"Response": {"Error": {"Code": code, "Message": message},
                                      "RequestId": request_id}}  # fmt: skip
        if action == "PullSmsSendStatusByPhoneNumber":
            return 200, {"Response": {"PullSmsSendStatusSet": self._tencent_pulled(params),
                                      "RequestId": request_id}}  # fmt: skip
        code, message = TENCENT_STATUSES[answer]
        phone = params["PhoneNumberSet"][0]
        status = {
            "SerialNo": self._next_reference() if answer == "ok" else "",
            "PhoneNumber": phone,
            "Fee": 1 if answer == "ok" else 0,
            "SessionContext": params.get("SessionContext", ""),
            "Code": code,
            "Message": message,
            "IsoCode": "CN",
        }
        return 200, {"Response": {"SendStatusSet": [status], "RequestId": request_id}}

    def _tencent_pulled(self, params):
        pulled = []
        for serial, (state, code, received) in self.statuses.items():
            if state == "waiting":
                continue
            pulled.append(
                {
                    "UserReceiveTime": received,
                    "CountryCode": "86",
                    "SubscriberNumber": params["PhoneNumber"].removeprefix("+86"),
                    "PhoneNumber": params["PhoneNumber"],
                    "SerialNo": serial,
                    "ReportStatus": "SUCCESS" if state == "delivered" else "FAIL",
                    "Description": code,
                    "SessionContext": "",
                }
            )
        return pulled

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {key.lower(): value for key, value in self.headers.items()}
                if server.provider == "aliyun":
                    action = headers.get("x-acs-action", "")
                    params = dict(parse_qsl(urlsplit(self.path).query))
                else:
                    action = headers.get("x-tc-action", "")
                    params = json.loads(body or b"{}")
                with server.lock:
                    server.requests.append({"action": action, "params": params, "headers": headers})
                answer = server._answer(action, params)
                if answer is None:  # a network error: the connection closes unanswered
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, payload = answer
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


# What the tests register: a greeting and a holiday template per provider, promotional,
# and the password code as a notice.
REGISTRY = {
    "aliyun": {
        "birthday": {
            "template": "SMS_480000001",
            "kind": "promotion",
            "text": "${name}您好！今天是您的生日，${branch}和客户经理${officer}祝您生日快乐！拒收请回复R",
            "variables": {"name": "name", "branch": "branch", "officer": "officer"},
        },
        "holiday": {
            "template": "SMS_480000002",
            "kind": "promotion",
            "text": "${name}您好！值此${festival}之际，${branch}祝您节日快乐！拒收请回复R",
            "variables": {"name": "name", "festival": "occasion", "branch": "branch"},
        },
        "password_reset": {
            "template": "SMS_480000003",
            "kind": "notice",
            "text": "您的新密码验证码为${code}，${minutes}分钟内有效，请勿告诉他人。",
            "variables": {"code": "code", "minutes": "minutes"},
        },
    },
    "tencent": {
        "birthday": {
            "template": "2000001",
            "kind": "promotion",
            "text": "{1}您好！今天是您的生日，{2}和客户经理{3}祝您生日快乐！拒收请回复R",
            "variables": ["name", "branch", "officer"],
        },
        "holiday": {
            "template": "2000002",
            "kind": "promotion",
            "text": "{1}您好！值此{2}之际，{3}祝您节日快乐！拒收请回复R",
            "variables": ["name", "occasion", "branch"],
        },
        "password_reset": {
            "template": "2000003",
            "kind": "notice",
            "text": "您的新密码验证码为{1}，{2}分钟内有效，请勿告诉他人。",
            "variables": ["code", "minutes"],
        },
    },
}
RECEIPT_TOKEN = "receipts-token-0123456789abcdef"
SIGN_NAME = "众兴惠农"


def configure(app, monkeypatch, provider: str, endpoint: str, registry_path) -> None:
    """Point the app's ``CARE_GATEWAY`` at ``provider`` on ``endpoint``."""
    settings = {
        "CARE_GATEWAY": provider,
        "SMS_TEMPLATES_FILE": str(registry_path),
        "SMS_TIMEOUT": 2.0,
        "SMS_RECEIPT_TOKEN": RECEIPT_TOKEN,
    }
    if provider == "aliyun":
        settings |= {
            "ALIYUN_SMS_ACCESS_KEY_ID": "test-access-key-id",
            "ALIYUN_SMS_ACCESS_KEY_SECRET": "test-access-key-secret",
            "ALIYUN_SMS_SIGN_NAME": SIGN_NAME,
            "ALIYUN_SMS_ENDPOINT": endpoint,
        }
    else:
        settings |= {
            "TENCENT_SMS_SECRET_ID": "test-secret-id",
            "TENCENT_SMS_SECRET_KEY": "test-secret-key",
            "TENCENT_SMS_SDK_APP_ID": "1400006666",
            "TENCENT_SMS_SIGN_NAME": SIGN_NAME,
            "TENCENT_SMS_ENDPOINT": endpoint,
        }
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)


@pytest.fixture(params=["aliyun", "tencent"])
def provider(request, app, monkeypatch, tmp_path):
    """Each provider in turn: its server running, the app sending through it."""
    server = ProviderServer(request.param)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    registry = tmp_path / "sms-templates.json"
    registry.write_text(json.dumps(REGISTRY, ensure_ascii=False), encoding="utf-8")
    configure(app, monkeypatch, request.param, server.url, registry)
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
