"""Settings of the e-mail channel (environment prefix ``HOTLINE_EMAIL_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class EmailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_EMAIL_", extra="ignore")

    # Our addresses: the hotline's and the mayor's e-mail box (mail to it gets intake line "mayor").
    address: str = "12345@hotline.example.gov.cn"
    display_name: str = "12345政务服务便民热线"
    mayor_address: str | None = None
    message_id_domain: str = "hotline.example.gov.cn"

    # Outbound SMTP (aiosmtplib).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_timeout: float = 30.0

    # Inbound IMAP polling (aioimaplib); the poller runs only when imap_host is set.
    imap_host: str | None = None
    imap_port: int = 993
    imap_ssl: bool = True
    imap_username: str | None = None
    imap_password: str | None = None
    imap_mailbox: str = "INBOX"
    imap_processed_folder: str = "Processed"
    imap_failed_folder: str = "Failed"
    imap_poll_seconds: float = 60.0
    imap_idle_seconds: float = 600.0   # re-issue IDLE at least this often (RFC 2177: < 29 min)
    imap_max_attempts: int = 5         # transient failures before a mail is moved to the failed folder

    # Optional inbound SMTP listener (aiosmtpd) for a relay; runs only when listen_port is set.
    listen_host: str = "127.0.0.1"
    listen_port: int | None = None
    listen_recipients: list[str] = []  # accepted RCPT TO addresses; empty: address + mayor_address

    # HTTP inbound (POST /channels/email/inbound, raw RFC 822 body) for a mail gateway;
    # X-Hotline-Signature: hex HMAC-SHA256 of the body with this secret.
    webhook_secret: str | None = None

    max_message_bytes: int = 30 * 1024 * 1024
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_attachments: int = 20

    def our_addresses(self) -> set[str]:
        found = {a.lower() for a in self.listen_recipients}
        if not found:
            found = {self.address.lower()}
            if self.mayor_address:
                found.add(self.mayor_address.lower())
        return found
