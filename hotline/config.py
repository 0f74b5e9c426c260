"""Settings read from the environment (prefix ``HOTLINE_``).

Every package that needs its own settings defines a small ``BaseSettings``
subclass with its own prefix (``HOTLINE_WECHAT_`` ...) and lists it in
``SETTINGS_CLASSES`` so the docker-compose test can check the wiring.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASE_SCHEMES = ("postgres://", "postgresql://", "postgresql+asyncpg://", "sqlite+aiosqlite://")


DATABASE_FILE = "hotline.db"  # the embedded store's file in the data dir

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    redis_url: str | None = None
    elasticsearch_url: str | None = None
    # The semantic search stage (knowledge.semantic): article searches re-ranked with sentence vectors.
    # Needs `pip install 'hotline[semantic]'`; the model file is built once into <data_dir>/models.
    semantic: bool = False
    host: str = "127.0.0.1"
    port: int = 8080
    timezone: str = "Asia/Shanghai"
    secret_key: str = "change-me"
    max_text_chars: int = 20_000
    public_base_url: str = "http://127.0.0.1:8080"
    # Behind our own reverse proxy: per-address limits on public pages (web chatbot, mailbox) use the
    # rightmost X-Forwarded-For entry, the one that proxy appends, instead of the proxy's own address.
    trust_forwarded_for: bool = False
    # Deadline policy as JSON, e.g. {"sign_hours": 2, "reply_days": {"咨询": 1}, "category_days": {"C0801": 1}}
    deadlines: dict = {}

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(DATABASE_SCHEMES):
            raise ValueError("只支持 PostgreSQL（postgresql://用户:密码@主机/库名）或 SQLite（sqlite+aiosqlite:///路径）")
        return value or None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"未知时区 {value}（例如 Asia/Shanghai）") from None
        return value

    @field_validator("deadlines")
    @classmethod
    def _valid_deadlines(cls, value: dict) -> dict:
        from hotline.workcal import DeadlinePolicy

        DeadlinePolicy.from_settings(value)  # raises a Chinese ValueError on unknown keys or bad numbers
        return value

    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL: PostgreSQL when configured, else SQLite under data_dir."""
        if self.database_url:
            url = self.database_url
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    return "postgresql+asyncpg://" + url[len(prefix):]
            return url
        return f"sqlite+aiosqlite:///{(self.data_dir / DATABASE_FILE).resolve()}"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


# Settings classes other packages register (module path, class name) so that
# tests can list every environment variable the application reads.
SETTINGS_CLASSES: list[str] = [
    "hotline.config:Settings",
    "hotline.jobs.context:JobSettings",
    "routing.settings:RoutingSettings",
    "channels.email.settings:EmailSettings",
    "channels.mailbox.settings:MailboxSettings",
    "channels.telegram.settings:TelegramSettings",
    "channels.wechat.settings:WechatSettings",
    "channels.sms.settings:SmsSettings",
    "channels.phone.settings:PhoneSettings",
    "knowledge.web:KnowledgeSettings",
]
