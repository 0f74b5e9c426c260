"""Settings of the WeChat public-account channel (environment prefix ``HOTLINE_WECHAT_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class WechatSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_WECHAT_", env_file=".env", extra="ignore")

    token: str | None = None          # the server-configuration Token
    appid: str | None = None
    appsecret: str | None = None
    # EncodingAESKey (43 chars) for compatible/safe modes; when set, plaintext pushes are refused.
    aes_key: str | None = None
    api_base: str = "https://api.weixin.qq.com"
    # WeChat gives up after 5 s; answer passively only if the reply is ready well before that.
    reply_deadline_seconds: float = 3.5
    max_concurrent_answers: int = 16  # messages worked on at once per process; the rest wait their turn
    max_body_bytes: int = 64 * 1024
    replay_window_seconds: int = 300  # a push's timestamp may differ from our clock by at most this
    dedupe_ttl_seconds: int = 24 * 3600
    window_hours: int = 48            # customer-service messages only within 48 h of the citizen's last message
    window_quota: int = 20            # customer-service messages per window
    templates: dict[str, str] = {}    # our template name -> WeChat template_id, e.g. {"progress": "..."}
