"""Question -> answer -> ticket through the real WeChat adapter and the real create_app(...) TicketService."""

from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa
import xmltodict

import channels.web
from channels.wechat.settings import WechatSettings
from hotline import appkeys
from hotline.app import create_app
from hotline.config import Settings
from hotline.tables import tickets
from knowledge.search.embedded import EmbeddedSearchIndex
from tests.channels.wechat.conftest import post
from tests.channels.wechat.fakes import APPID, APPSECRET, TOKEN, CitizenWechat, FakeWechatApi, text_xml
from tests.knowledge.helpers import load_demo


@pytest.fixture
async def wechat(aiohttp_client, engine, clock, tmp_path):
    index = EmbeddedSearchIndex(engine)
    await index.open()
    await load_demo(engine, clock, index)  # persisted: the app's own index loads it at startup
    async with contextlib.AsyncExitStack() as stack:
        api = await FakeWechatApi().start(stack)
        app = create_app(Settings(data_dir=tmp_path / "data", redis_url=None, elasticsearch_url=None),
                         engine=engine, clock=clock,
                         plugins=["hotline.api.setup:setup", "hotline.live:setup", "knowledge.web:setup"])
        channels.web.setup(app, only=["wechat"], channel_settings={"wechat": WechatSettings(
            token=TOKEN, appid=APPID, appsecret=APPSECRET, api_base=api.url)})
        yield await aiohttp_client(app)


async def say(client, text: str) -> str:
    status, body = await post(client, CitizenWechat().plain(text_xml(text)))
    assert status == 200
    return xmltodict.parse(body)["xml"]["Content"]


async def test_wechat_question_answer_then_ticket(wechat, engine):
    answer = await say(wechat, "住房公积金怎么提取？")
    assert "来源：《住房公积金提取条件和材料》" in answer
    assert await say(wechat, "没用") == "抱歉没能帮到您。需要为您提交诉求，由相关部门办理吗？回复“提交”即可，回复“取消”结束。"
    assert "就是这个" in await say(wechat, "提交")  # a question: the bot asks whether it is the problem to file
    assert "地点" in await say(wechat, "就是这个")
    assert "联系电话" in await say(wechat, "云湖区湖滨街道翠柳小区")
    done = await say(wechat, "13812345678")
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(tickets))).one()
    assert done == f"您的诉求已提交，工单编号：{row.number}。发送该编号可随时查询办理进度。"
    assert row.channel == "wechat"
    assert row.text.startswith("住房公积金怎么提取？\n地点：云湖区湖滨街道翠柳小区\n联系电话：13812345678")
    # the same citizen asks for progress with the number (answered by the adapter with the real service)
    progress = await say(wechat, row.number)
    assert progress.startswith(f"工单 {row.number} 当前状态：")
    ticket = await wechat.app[appkeys.SERVICE].get_ticket_by_number(row.number)
    # the typed number is where the unit calls back, not an identity of this follower (nobody verified it)
    assert ticket["contact_phone"] == "+8613812345678"
    assert [i["kind"] for i in ticket["citizen"]["identities"]] == ["wechat"]
    # "查询进度" with no number: the real service finds this citizen's tickets by the WeChat openid
    mine = await say(wechat, "查询进度")
    assert mine.startswith("您最近的工单：\n1. " + row.number)
    assert f"：{ticket['state_label']}" in mine
