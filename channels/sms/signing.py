"""Gateway webhook authentication: HMAC-SHA256 over "<timestamp>." + body, 5-minute replay window."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from channels.base import VerificationFailed

TIMESTAMP_HEADER = "X-Hotline-Timestamp"
SIGNATURE_HEADER = "X-Hotline-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, headers, body: bytes, now: dt.datetime, window_seconds: int) -> None:
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not timestamp.isdigit() or not signature:
        raise VerificationFailed(f"缺少 {TIMESTAMP_HEADER} 或 {SIGNATURE_HEADER}")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.lower()):
        raise VerificationFailed("短信网关签名校验失败")
    if abs(now.timestamp() - int(timestamp)) > window_seconds:
        raise VerificationFailed("请求时间戳超出有效期（可能是重放）")
