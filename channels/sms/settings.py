"""Settings of the SMS channel (environment prefix ``HOTLINE_SMS_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class SmsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_SMS_", env_file=".env", extra="ignore")

    secret: str | None = None               # shared HMAC secret of the gateway's webhooks
    api_base: str = "http://127.0.0.1:9090"  # the gateway's HTTP API
    api_key: str | None = None
    sender: str = "12345"                    # our number outbound messages come from
    # Our numbers citizens text -> intake line; the leader's number (市长短信) is a line like the others.
    lines: dict[str, str] = {"12345": "12345", "12315": "12315"}
    default_line: str = "12345"
    replay_window_seconds: int = 300
    max_body_bytes: int = 16 * 1024
    send_attempts: int = 3
    retry_backoff_seconds: float = 0.5
    receipt_url: str | None = None           # where the gateway posts delivery receipts
    callback_valid_days: int = 7             # how long a satisfaction reply to a callback SMS counts
