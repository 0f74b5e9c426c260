"""Settings of the Telegram channel (environment prefix ``HOTLINE_TELEGRAM_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class TelegramSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_TELEGRAM_", extra="ignore")

    token: str | None = None                 # the bot token from @BotFather
    path_secret: str | None = None           # the <secret> in /channels/telegram/<secret>
    secret_token: str | None = None          # setWebhook(secret_token=...): X-Telegram-Bot-Api-Secret-Token
    api_base_url: str = "https://api.telegram.org"
    max_body_bytes: int = 1024 * 1024
    request_timeout: float = 15.0

    def configured(self) -> bool:
        return bool(self.token and self.path_secret and self.secret_token)
