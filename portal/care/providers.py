"""Alibaba Cloud SMS and Tencent Cloud SMS, through their official SDKs.

``CARE_GATEWAY=aliyun`` or ``tencent`` (docs/sms.md). A message goes out as the
provider's approved template for its kind (portal/care/sms_templates.py), under the
company's registered signature, filled with the message's values. The provider's
answer becomes a ``SendResult``:

- accepted: sent, with the provider's id of the message (Alibaba ``BizId``, Tencent
  ``SerialNo``), which its delivery receipt names;
- throttled (a limit per number or per account): retried after the back-off;
- refused for the message itself (template or signature not approved, a parameter or
  number the provider will never take, content it blocks, a number that opted out):
  failed at once, with the provider's code and reason;
- anything else (the network, the provider's own trouble, credentials): retried.

Both SDKs let the endpoint be set (``ALIYUN_SMS_ENDPOINT``, ``TENCENT_SMS_ENDPOINT``):
the tests answer them from a local HTTP server as the providers' APIs do.
"""

import json
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

from flask import current_app

from portal.care import sms_templates
from portal.care.gateways import ConfigurationError, Message, Receipt, SendResult, SentMessage

log = logging.getLogger(__name__)

# The providers' own clock (send dates, receipt times): China Standard Time, UTC+8 all
# year. It is theirs, not the company's PORTAL_TIMEZONE.
CHINA_TIME = timezone(timedelta(hours=8), "CST")
# How far back the status query asks about a message without a receipt (Tencent keeps
# 7 days, Alibaba 30); after that it stays "sent".
STATUS_WINDOW = timedelta(days=3)

# Alibaba's codes (HTTP 200 with Code, or an error response).
ALIYUN_THROTTLED = ("isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling")
ALIYUN_REFUSED = (
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.SMS_SIGN_ILLEGAL",
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.TEMPLATE_PARAMS_ILLEGAL",
    "isv.INVALID_JSON_PARAM",
    "isv.INVALID_PARAMETERS",
    "isv.PARAM_LENGTH_LIMIT",
    "isv.PARAM_NOT_SUPPORT_URL",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.SMS_CONTENT_ILLEGAL",
    "isv.EXTEND_CODE_ERROR",
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
)
# Tencent's codes (per number in SendStatusSet, or the whole request's Error).
TENCENT_THROTTLED = (
    "LimitExceeded",
    "RequestLimitExceeded",
    # Tencent sends marketing texts only 08:00-22:00: a later run sends it.
    "FailedOperation.MarketingSendTimeConstraint",
)
TENCENT_REFUSED = (
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
    "FailedOperation.ContainSensitiveWord",
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.PhoneNumberParseFail",
    "InvalidParameterValue",
    "UnsupportedOperation",
)
TENCENT_NETWORK = ("ClientNetworkError", "ServerNetworkError")


def _matches(code: str, known: tuple[str, ...]) -> bool:
    """``code`` is one of ``known`` or of its family (``LimitExceeded.PhoneNumberDailyLimit``)."""
    return any(code == entry or code.startswith(entry + ".") for entry in known)


def _answer(provider: str, code: str, message: str, throttled, refused) -> SendResult:
    """The outcome of a provider's code other than success."""
    detail = f"({code}): {message}".strip()
    if _matches(code, throttled):
        return SendResult(False, f"throttled by {provider} {detail}"[:500], code=code)
    if _matches(code, refused):
        return SendResult(False, f"refused by {provider} {detail}"[:500], retry=False, code=code)
    return SendResult(False, f"{provider} error {detail}"[:500], code=code)


def _network(provider: str, error: BaseException) -> SendResult:
    return SendResult(
        False, f"network error talking to {provider}: {type(error).__name__}: {error}"[:500],
        code="network",
    )  # fmt: skip


@dataclass(frozen=True)
class Endpoint:
    """Where an SDK sends its requests: ``https://host`` or ``http://127.0.0.1:port``."""

    scheme: str
    host: str

    @classmethod
    def parse(cls, setting: str, value: str) -> "Endpoint":
        text = value.strip()
        parts = urlsplit(text if "://" in text else f"https://{text}")
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in ("", "/"):
            raise ConfigurationError(f"{setting} must be a host or an http(s) URL, not {value!r}")
        return cls(parts.scheme, parts.netloc)


def china_time(text: str | None) -> datetime | None:
    """A provider's "2026-11-26 08:00:03" (China time) as UTC; None when absent or odd."""
    try:
        local = datetime.strptime(str(text or "").strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return local.replace(tzinfo=CHINA_TIME).astimezone(UTC)


class ProviderGateway(ABC):
    """What both providers share: the registry lookup and the checks before sending."""

    name = ""
    delivers = True

    def __init__(self, registry: sms_templates.Registry, sign_name: str, timeout: float):
        self.registry = registry
        self.sign_name = sign_name
        self.timeout = timeout

    def send(self, message: Message) -> SendResult:
        template = self.registry.template(self.name, message.occasion, greeting=message.greeting)
        if template is None:
            return SendResult(
                False,
                f"no approved {self.name} template for {message.occasion!r} in the registry",
                retry=False,
                code="template",
            )
        if refusal := template.refusal(message.values):
            return SendResult(False, refusal, retry=False, code="template")
        try:
            return self._send(template, message)
        except Exception as error:  # the SDKs raise their own kinds; each is answered
            return self._failure(error)

    @abstractmethod
    def _send(self, template: sms_templates.Template, message: Message) -> SendResult:
        """Send ``message`` as ``template`` through the provider's SDK."""

    @abstractmethod
    def _failure(self, error: Exception) -> SendResult:
        """What an exception of the provider's SDK means for the outbox."""

    @abstractmethod
    def status(self, sent: SentMessage, now: datetime) -> Receipt | None:
        """The provider's delivery status of a sent message; None while it has none."""


class AliyunGateway(ProviderGateway):
    """Alibaba Cloud SMS (dysmsapi 2017-05-25): SendSms, QuerySendDetails."""

    name = "aliyun"

    def __init__(self, registry, sign_name, timeout, *, key_id, key_secret, region, endpoint):
        super().__init__(registry, sign_name, timeout)
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import utils_models

        milliseconds = int(timeout * 1000)
        self.client = Client(
            utils_models.Config(
                access_key_id=key_id,
                access_key_secret=key_secret,
                region_id=region,
                endpoint=endpoint.host,
                protocol=endpoint.scheme,
                read_timeout=milliseconds,
                connect_timeout=milliseconds,
            )
        )

    def _runtime(self):
        from darabonba.runtime import RuntimeOptions

        milliseconds = int(self.timeout * 1000)
        return RuntimeOptions(read_timeout=milliseconds, connect_timeout=milliseconds)

    def _send(self, template, message):
        from alibabacloud_dysmsapi20170525 import models

        parameters = template.parameters(message.values)
        request = models.SendSmsRequest(
            phone_numbers=message.mobile,
            sign_name=self.sign_name,
            template_code=template.code,
            template_param=json.dumps(parameters, ensure_ascii=False) if parameters else None,
            out_id=message.idempotency_key,
        )
        body = self.client.send_sms_with_options(request, self._runtime()).body
        if body.code == "OK":
            return SendResult(True, reference=str(body.biz_id or ""), code="OK")
        return _answer(self.name, str(body.code), str(body.message or ""),
                       ALIYUN_THROTTLED, ALIYUN_REFUSED)  # fmt: skip

    def _failure(self, error):
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ThrottlingException

        if isinstance(error, AlibabaCloudException):
            code = str(error.code or "")
            if isinstance(error, ThrottlingException) and not _matches(code, ALIYUN_THROTTLED):
                code = f"Throttling.{code}"
            return _answer(self.name, code, str(error.message or ""),
                           ALIYUN_THROTTLED, ALIYUN_REFUSED)  # fmt: skip
        return _network(self.name, getattr(error, "inner_exception", None) or error)

    def status(self, sent, now):
        from alibabacloud_dysmsapi20170525 import models

        request = models.QuerySendDetailsRequest(
            phone_number=sent.mobile,
            biz_id=sent.reference,
            send_date=f"{sent.sent_at.astimezone(CHINA_TIME):%Y%m%d}",
            page_size=10,
            current_page=1,
        )
        body = self.client.query_send_details_with_options(request, self._runtime()).body
        if body.code != "OK":
            raise ProviderError(f"aliyun QuerySendDetails ({body.code}): {body.message}")
        found = body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []
        for detail in found or []:
            # SendStatus: 1 waiting for the carrier's receipt, 2 failed, 3 delivered.
            if detail.send_status in (2, 3):
                delivered = detail.send_status == 3
                return Receipt(
                    sent.reference,
                    delivered,
                    str(detail.err_code or ("DELIVERED" if delivered else "")),
                    "",
                    china_time(detail.receive_date),
                )
        return None


class TencentGateway(ProviderGateway):
    """Tencent Cloud SMS (2021-01-11): SendSms, PullSmsSendStatusByPhoneNumber."""

    name = "tencent"

    def __init__(self, registry, sign_name, timeout, *, secret_id, secret_key, app_id, region,
                 endpoint):  # fmt: skip
        super().__init__(registry, sign_name, timeout)
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        self.app_id = app_id
        profile = HttpProfile(protocol=endpoint.scheme, endpoint=endpoint.host, reqTimeout=timeout)
        self.client = sms_client.SmsClient(
            credential.Credential(secret_id, secret_key), region, ClientProfile(httpProfile=profile)
        )

    @staticmethod
    def e164(mobile: str) -> str:
        """+86 and the number: the form Tencent takes."""
        return mobile if mobile.startswith("+") else f"+86{mobile}"

    def _send(self, template, message):
        from tencentcloud.sms.v20210111 import models

        request = models.SendSmsRequest()
        request.PhoneNumberSet = [self.e164(message.mobile)]
        request.SmsSdkAppId = self.app_id
        request.SignName = self.sign_name
        request.TemplateId = template.code
        request.TemplateParamSet = template.parameters(message.values)
        request.SessionContext = message.idempotency_key
        statuses = self.client.SendSms(request).SendStatusSet or []
        if not statuses:
            return SendResult(False, "tencent answered without a send status", code="empty")
        status = statuses[0]
        if status.Code == "Ok":
            return SendResult(True, reference=str(status.SerialNo or ""), code="Ok")
        return _answer(self.name, str(status.Code), str(status.Message or ""),
                       TENCENT_THROTTLED, TENCENT_REFUSED)  # fmt: skip

    def _failure(self, error):
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )

        if isinstance(error, TencentCloudSDKException):
            code = str(error.get_code() or "")
            if code in TENCENT_NETWORK:
                return _network(self.name, error)
            return _answer(self.name, code, str(error.get_message() or ""),
                           TENCENT_THROTTLED, TENCENT_REFUSED)  # fmt: skip
        return _network(self.name, error)

    def status(self, sent, now):
        from tencentcloud.sms.v20210111 import models

        request = models.PullSmsSendStatusByPhoneNumberRequest()
        request.BeginTime = int(sent.sent_at.timestamp()) - 60
        request.EndTime = int(now.timestamp())
        request.Offset = 0
        request.Limit = 100
        request.PhoneNumber = self.e164(sent.mobile)
        request.SmsSdkAppId = self.app_id
        answer = self.client.PullSmsSendStatusByPhoneNumber(request)
        for status in answer.PullSmsSendStatusSet or []:
            if status.SerialNo == sent.reference and status.ReportStatus in ("SUCCESS", "FAIL"):
                received = status.UserReceiveTime
                return Receipt(
                    sent.reference,
                    status.ReportStatus == "SUCCESS",
                    str(status.Description or status.ReportStatus),
                    "",
                    datetime.fromtimestamp(int(received), UTC) if received else None,
                )
        return None


class ProviderError(RuntimeError):
    """A provider did not answer a status query as documented."""


def _required(config, names: tuple[str, ...], gateway: str) -> None:
    missing = [name for name in names if not str(config.get(name) or "").strip()]
    if missing:
        raise ConfigurationError(f"CARE_GATEWAY={gateway} needs {', '.join(missing)}")


def configured(name: str) -> ProviderGateway:
    """The provider gateway ``name`` as the settings describe it; ConfigurationError if not."""
    config = current_app.config
    timeout = float(config["SMS_TIMEOUT"])
    if name == "aliyun":
        _required(config, ("ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET",
                           "ALIYUN_SMS_SIGN_NAME"), name)  # fmt: skip
        endpoint = Endpoint.parse("ALIYUN_SMS_ENDPOINT", config["ALIYUN_SMS_ENDPOINT"])
        registry = sms_templates.load(config["SMS_TEMPLATES_FILE"])
        return AliyunGateway(
            registry,
            config["ALIYUN_SMS_SIGN_NAME"],
            timeout,
            key_id=config["ALIYUN_SMS_ACCESS_KEY_ID"],
            key_secret=config["ALIYUN_SMS_ACCESS_KEY_SECRET"],
            region=config["ALIYUN_SMS_REGION"],
            endpoint=endpoint,
        )
    _required(config, ("TENCENT_SMS_SECRET_ID", "TENCENT_SMS_SECRET_KEY",
                       "TENCENT_SMS_SDK_APP_ID", "TENCENT_SMS_SIGN_NAME"), name)  # fmt: skip
    endpoint = Endpoint.parse("TENCENT_SMS_ENDPOINT", config["TENCENT_SMS_ENDPOINT"])
    registry = sms_templates.load(config["SMS_TEMPLATES_FILE"])
    return TencentGateway(
        registry,
        config["TENCENT_SMS_SIGN_NAME"],
        timeout,
        secret_id=config["TENCENT_SMS_SECRET_ID"],
        secret_key=config["TENCENT_SMS_SECRET_KEY"],
        app_id=config["TENCENT_SMS_SDK_APP_ID"],
        region=config["TENCENT_SMS_REGION"],
        endpoint=endpoint,
    )
