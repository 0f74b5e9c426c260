"""Settings of the phone channel (environment prefix ``HOTLINE_PHONE_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class PhoneSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_PHONE_", env_file=".env", extra="ignore")

    token: str | None = None          # the secret path segment of the CTI webhook /channels/phone/<token>
    # Dialled number -> intake line; a dialled number ending in a key counts too (0571-12345).
    lines: dict[str, str] = {"12345": "12345", "12315": "12315", "12333": "12333", "12358": "12358",
                             "12365": "12365", "12319": "12319", "12369": "12369"}
    default_line: str = "12345"
    max_body_bytes: int = 16 * 1024
    history_limit: int = 5            # open tickets / last contacts shown in a screen pop
    # Asterisk ARI (optional): events websocket at <ari_url>/ari/events
    ari_url: str | None = None
    ari_user: str = "hotline"
    ari_password: str = ""
    ari_app: str = "hotline"
    ari_reconnect_seconds: float = 2.0
