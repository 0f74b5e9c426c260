"""The WeChat server API: access token, customer-service and template messages.

All calls go through the app's one aiohttp ClientSession to ``api_base``. The
access token is cached (in Redis when configured, shared by all processes;
else in this process) and fetched again when WeChat says it expired.
"""

from __future__ import annotations

import asyncio
import logging
import time

log = logging.getLogger(__name__)
TOKEN_ERRORS = {40001, 40014, 42001}   # invalid, malformed, expired access_token
OUT_OF_WINDOW = 45015
QUOTA_EXCEEDED = 45047
TEMPLATE_FIELD_MAX = 20


class WechatApiError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


class WechatApi:
    def __init__(self, http, settings, redis=None) -> None:
        self.http = http
        self.settings = settings
        self.redis = redis
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    @property
    def _redis_key(self) -> str:
        return f"hotline:wechat:token:{self.settings.appid}"

    async def access_token(self, *, refresh: bool = False) -> str:
        if not refresh:
            cached = await self._cached()
            if cached:
                return cached
        async with self._lock:
            if not refresh and (cached := await self._cached()):
                return cached
            data = await self._get("/cgi-bin/token", grant_type="client_credential",
                                   appid=self.settings.appid, secret=self.settings.appsecret)
            token, ttl = data["access_token"], max(int(data.get("expires_in", 7200)) - 300, 60)
            self._token = (token, time.monotonic() + ttl)
            if self.redis is not None:
                await self.redis.set(self._redis_key, token, ex=ttl)
            return token

    async def _cached(self) -> str | None:
        if self.redis is not None:
            value = await self.redis.get(self._redis_key)
            return value.decode() if isinstance(value, bytes) else value
        if self._token and self._token[1] > time.monotonic():
            return self._token[0]
        return None

    async def _invalidate(self, token: str) -> None:
        self._token = None
        if self.redis is not None:
            # Only drop it if no other process has already replaced it.
            current = await self.redis.get(self._redis_key)
            if current in (token, token.encode()):
                await self.redis.delete(self._redis_key)

    async def _get(self, path: str, **params) -> dict:
        async with self.http.get(self.settings.api_base.rstrip("/") + path, params=params) as resp:
            data = await resp.json(content_type=None)
        if data.get("errcode"):
            raise WechatApiError(int(data["errcode"]), str(data.get("errmsg", "")))
        return data

    async def call(self, path: str, payload: dict) -> dict:
        """POST ``payload`` with the access token; fetch a new token once if WeChat rejects it."""
        for attempt in (1, 2):
            token = await self.access_token(refresh=attempt == 2)
            url = self.settings.api_base.rstrip("/") + path
            async with self.http.post(url, params={"access_token": token}, json=payload) as resp:
                data = await resp.json(content_type=None)
            code = int(data.get("errcode") or 0)
            if code in TOKEN_ERRORS and attempt == 1:
                log.info("wechat access token rejected (%s); fetching a new one", code)
                await self._invalidate(token)
                continue
            if code:
                raise WechatApiError(code, str(data.get("errmsg", "")))
            return data
        raise AssertionError("unreachable")

    async def send_text(self, openid: str, text: str) -> dict:
        return await self.call("/cgi-bin/message/custom/send",
                               {"touser": openid, "msgtype": "text", "text": {"content": text}})

    async def send_template(self, openid: str, template_id: str, data: dict[str, str],
                            url: str | None = None) -> dict:
        payload = {"touser": openid, "template_id": template_id,
                   "data": {k: {"value": template_value(v)} for k, v in data.items()}}
        if url:
            payload["url"] = url
        return await self.call("/cgi-bin/message/template/send", payload)


def template_value(value: str) -> str:
    """Template fields: one line, at most 20 characters."""
    one_line = " ".join(str(value).split())
    return one_line if len(one_line) <= TEMPLATE_FIELD_MAX else one_line[:TEMPLATE_FIELD_MAX - 1] + "…"
