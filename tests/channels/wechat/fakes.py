"""A loopback stand-in for the WeChat API, and a citizen's WeChat that signs/encrypts like WeChat.

``FakeWechatApi`` records every request and answers like api.weixin.qq.com,
including its error codes: 40001 (invalid access_token), 45002 (text content
over 2048 bytes), 45015 (out of the 48-hour window), 45047 (customer-service
quota used up), 47001 (template data format).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import re
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto

from tests.channels.loopback import serve

FIXTURES = Path(__file__).with_name("fixtures")
TOKEN = "hotline12345token"
APPID = "wx5823bf96d3bd56c7"
APPSECRET = "9a1b2c3d4e5f60718293a4b5c6d7e8f9"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"  # 43 chars, as WeChat's console generates
# Where the shared ``clock`` fixture starts (tests/conftest.py): the app's time unless a test moves it.
CLOCK_START = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)


class FakeWechatApi:
    def __init__(self, quota: int = 20) -> None:
        self.requests: list[dict] = []
        self.valid_tokens: set[str] = set()
        self.out_of_window: set[str] = set()
        self.quota = quota
        self.sent: dict[str, int] = {}
        self._counter = itertools.count(1)
        self.url = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self.token)
        app.router.add_post("/cgi-bin/message/custom/send", self.custom_send)
        app.router.add_post("/cgi-bin/message/template/send", self.template_send)
        return app

    async def start(self, stack: contextlib.AsyncExitStack) -> "FakeWechatApi":
        self.url = await serve(stack, self.app())
        return self

    def calls(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    async def token(self, request: web.Request) -> web.Response:
        self.requests.append({"path": request.path, "query": dict(request.query), "json": None})
        q = request.query
        if q.get("grant_type") != "client_credential" or q.get("appid") != APPID:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        if q.get("secret") != APPSECRET:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        token = f"ACCESS_TOKEN_{next(self._counter)}_{secrets.token_hex(4)}"
        self.valid_tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def _checked(self, request: web.Request) -> tuple[dict, web.Response | None]:
        body = await request.json()
        self.requests.append({"path": request.path, "query": dict(request.query), "json": body})
        if request.query.get("access_token") not in self.valid_tokens:
            return body, web.json_response({"errcode": 40001, "errmsg": "invalid credential, access_token is "
                                            "invalid or not latest hint: [fake]"})
        return body, None

    async def custom_send(self, request: web.Request) -> web.Response:
        body, error = await self._checked(request)
        if error:
            return error
        openid = body.get("touser")
        if len(((body.get("text") or {}).get("content") or "").encode("utf-8")) > 2048:
            return web.json_response({"errcode": 45002, "errmsg": "content size out of limit hint: [fake]"})
        if openid in self.out_of_window:
            return web.json_response({"errcode": 45015, "errmsg": "response out of time limit or "
                                      "subscription is canceled hint: [fake]"})
        if self.sent.get(openid, 0) >= self.quota:
            return web.json_response({"errcode": 45047, "errmsg": "out of response count limit hint: [fake]"})
        self.sent[openid] = self.sent.get(openid, 0) + 1
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def template_send(self, request: web.Request) -> web.Response:
        body, error = await self._checked(request)
        if error:
            return error
        for field in (body.get("data") or {}).values():
            value = field.get("value", "")
            if len(value) > 20 or "\n" in value:
                return web.json_response({"errcode": 47001, "errmsg": "data format error hint: [fake]"})
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": 200228332})


def fixture(name: str, **replace: str) -> str:
    """A recorded payload with some elements' values replaced (e.g. MsgId, Content, FromUserName)."""
    xml = (FIXTURES / name).read_text(encoding="utf-8")
    for tag, value in replace.items():
        xml = re.sub(rf"<{tag}>.*?</{tag}>", f"<{tag}><![CDATA[{value}]]></{tag}>", xml, flags=re.S)
    return xml


def text_xml(content: str, *, openid: str = "oia2TjjewbmiOUlr6X-1crbLOvLw", msg_id: str | None = None,
             create_time: int | None = None) -> str:
    return fixture("text.xml", Content=content, FromUserName=openid,
                   MsgId=msg_id or str(secrets.randbelow(10**17)),
                   CreateTime=str(create_time or int(time.time())))


class CitizenWechat:
    """Builds the requests WeChat's servers send: signed query, plaintext or encrypted body.

    Timestamps are "now" on ``clock`` (the app's clock in the test), else :data:`CLOCK_START`.
    """

    def __init__(self, token: str = TOKEN, aes_key: str = AES_KEY, appid: str = APPID, clock=None) -> None:
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, appid)
        self.clock = clock

    def now(self) -> int:
        return int((self.clock.now() if self.clock is not None else CLOCK_START).timestamp())

    def _signature(self, *parts: str) -> str:
        return hashlib.sha1("".join(sorted([self.token, *parts])).encode()).hexdigest()

    def query(self, *, bad_signature: bool = False, timestamp: int | None = None) -> dict[str, str]:
        timestamp, nonce = str(self.now() if timestamp is None else timestamp), str(secrets.randbelow(10**10))
        signature = self._signature(timestamp, nonce)
        if bad_signature:
            signature = "0" * 40
        return {"signature": signature, "timestamp": timestamp, "nonce": nonce,
                "openid": "oia2TjjewbmiOUlr6X-1crbLOvLw"}

    def plain(self, xml: str, **kw) -> tuple[str, dict[str, str], bytes]:
        return "/channels/wechat?" + urlencode(self.query(**kw)), {"Content-Type": "text/xml"}, xml.encode()

    def encrypted(self, xml: str, *, compatible: bool = False, bad_msg_signature: bool = False,
                  crypto: WeChatCrypto | None = None) -> tuple[str, dict[str, str], bytes, dict[str, str]]:
        """Safe mode (``compatible``: plaintext fields kept beside Encrypt), as WeChat sends it."""
        query = self.query()
        envelope = xmltodict.parse((crypto or self.crypto).encrypt_message(xml, query["nonce"],
                                                                           query["timestamp"]))["xml"]
        msg_signature = envelope["MsgSignature"] if not bad_msg_signature else "f" * 40
        plain = xmltodict.parse(xml)["xml"]
        body = {"ToUserName": plain["ToUserName"], "Encrypt": envelope["Encrypt"]}
        if compatible:
            body = {**plain, "Encrypt": envelope["Encrypt"]}
        query.update(encrypt_type="aes", msg_signature=msg_signature)
        data = xmltodict.unparse({"xml": body}, full_document=False).encode()
        return "/channels/wechat?" + urlencode(query), {"Content-Type": "text/xml"}, data, query

    def decrypt_reply(self, reply: str, query: dict[str, str]) -> dict:
        """What the citizen's WeChat does with our encrypted passive reply."""
        envelope = xmltodict.parse(reply)["xml"]
        plain = self.crypto.decrypt_message(reply, envelope["MsgSignature"], envelope["TimeStamp"],
                                            envelope["Nonce"])
        assert envelope["Nonce"] == query["nonce"]
        return xmltodict.parse(plain)["xml"]
