"""Wiring: channels are configured from the environment and plugged in by the default plugin list."""

from __future__ import annotations

import sqlalchemy as sa

from channels.tables import wechat_deliveries
from hotline import appkeys
from hotline.app import PLUGINS, create_app
from hotline.config import Settings
from tests.channels.wechat.conftest import post
from tests.channels.wechat.fakes import AES_KEY, APPID, TOKEN, CitizenWechat, fixture


async def test_configured_channels_come_from_the_environment(monkeypatch, engine, clock, tmp_path, aiohttp_client):
    assert {"hotline.live:setup", "channels.web:setup"} <= set(PLUGINS)
    monkeypatch.setenv("HOTLINE_WECHAT_TOKEN", TOKEN)
    monkeypatch.setenv("HOTLINE_WECHAT_APPID", APPID)
    monkeypatch.setenv("HOTLINE_WECHAT_AES_KEY", AES_KEY)
    monkeypatch.setenv("HOTLINE_PHONE_TOKEN", "cti-env-token")
    monkeypatch.delenv("HOTLINE_SMS_SECRET", raising=False)
    app = create_app(Settings(data_dir=tmp_path / "data"), engine=engine, clock=clock,
                     plugins=["hotline.api.setup:setup", "hotline.live:setup", "channels.web:setup"])
    assert {"wechat", "phone"} <= set(app[appkeys.CHANNELS]) and "sms" not in app[appkeys.CHANNELS]
    client = await aiohttp_client(app)
    citizen = CitizenWechat(clock=clock)
    status, body = await post(client, citizen.encrypted(fixture("event_subscribe.xml"))[:3])
    assert status == 200 and "<Encrypt>" in body
    # Events are deduplicated by FromUserName + CreateTime.
    async with engine.connect() as conn:
        keys = (await conn.execute(sa.select(wechat_deliveries.c.dedupe_key))).scalars().all()
    assert keys == ["event:oia2TjjewbmiOUlr6X-1crbLOvLw:1795399000"]
    resp = await client.post("/channels/phone/cti-env-token", data={"event": "newCall", "from": "13800138000",
                                                                    "to": "12345", "callId": "env-1"})
    assert resp.status == 200
