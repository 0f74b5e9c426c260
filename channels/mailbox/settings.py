"""Settings of the mayor's mailbox (environment prefix ``HOTLINE_MAILBOX_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class MailboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_MAILBOX_", extra="ignore")

    enabled: bool = True
    city_name: str = "本市"
    max_text_chars: int = 5000
    max_attachments: int = 3
    max_attachment_bytes: int = 5 * 1024 * 1024
    max_request_bytes: int = 16 * 1024 * 1024
    attachment_types: list[str] = ["image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf",
                                   "application/msword", "text/plain",
                                   "application/vnd.openxmlformats-officedocument.wordprocessingml.document"]
    token_ttl_minutes: int = 120
    ip_letters_per_hour: int = 5
    phone_letters_per_day: int = 3
    ip_failed_queries_per_hour: int = 20
    # Letters forwarded by a partner portal (POST /channels/mailbox/letters), signed with this secret:
    # X-Mailbox-Timestamp (unix seconds) and X-Mailbox-Signature = hex HMAC-SHA256(secret, f"{ts}.{body}").
    partner_secret: str | None = None
    partner_max_skew_seconds: int = 300
    # Behind our own reverse proxy: the client IP is the rightmost X-Forwarded-For entry (the one it appends).
    # None (the default) follows HOTLINE_TRUST_FORWARDED_FOR.
    trust_forwarded_for: bool | None = None
