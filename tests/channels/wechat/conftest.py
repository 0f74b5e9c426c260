"""An app with the WeChat channel pointed at a fake WeChat API on loopback."""

from __future__ import annotations

import contextlib
from urllib.parse import parse_qsl, urlsplit

import pytest

import channels.web
from channels.wechat.settings import WechatSettings
from hotline import appkeys
from hotline.app import create_app
from hotline.config import Settings
from tests.channels.wechat.fakes import APPID, APPSECRET, TOKEN, CitizenWechat, FakeWechatApi


@pytest.fixture
async def fake_api():
    async with contextlib.AsyncExitStack() as stack:
        yield await FakeWechatApi().start(stack)


@pytest.fixture
def citizen(clock) -> CitizenWechat:
    return CitizenWechat(clock=clock)


@pytest.fixture
def make_client(aiohttp_client, engine, clock, tmp_path, fake_api):
    """Build a client for an app with the WeChat channel; keyword args override WechatSettings.

    The default is a plaintext-mode account (no EncodingAESKey); pass ``aes_key=AES_KEY`` for safe mode.
    """

    async def make(redis_url: str | None = None, chatbot=None, **overrides):
        values = dict(token=TOKEN, appid=APPID, appsecret=APPSECRET, aes_key=None, api_base=fake_api.url)
        values.update(overrides)
        app = create_app(Settings(data_dir=tmp_path / "data", redis_url=redis_url), engine=engine, clock=clock,
                         plugins=["hotline.api.setup:setup", "hotline.live:setup"])
        channels.web.setup(app, only=["wechat"], channel_settings={"wechat": WechatSettings(**values)})
        if chatbot is not None:
            app[appkeys.CHATBOT] = chatbot
        return await aiohttp_client(app)

    return make


async def post(client, request) -> tuple[int, str]:
    path_query, headers, body = request[:3]
    parts = urlsplit(path_query)
    resp = await client.post(parts.path, params=dict(parse_qsl(parts.query)), data=body, headers=headers)
    result = resp.status, await resp.text()
    # Window bookkeeping and late customer-service replies run after the answer: let them finish.
    await client.app[appkeys.CHANNELS]["wechat"].settle()
    return result
