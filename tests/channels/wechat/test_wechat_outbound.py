"""Outbound: customer-service messages (48-hour window, quota), templates, access-token caching."""

from __future__ import annotations

import pytest

from hotline import appkeys
from hotline.messages import Identity, OutboundMessage
from tests.channels.wechat.conftest import post
from tests.channels.wechat.fakes import fixture, text_xml

OPENID = "oia2TjjewbmiOUlr6X-1crbLOvLw"


def cs(text: str = "您的工单已派发。", openid: str = OPENID) -> OutboundMessage:
    return OutboundMessage(channel="wechat", recipient=Identity(kind="wechat", value=openid), text=text)


async def open_window(client, citizen) -> None:
    await post(client, citizen.plain(fixture("event_subscribe.xml")))


async def test_customer_service_message_within_window(make_client, citizen, fake_api):
    client = await make_client()
    adapter = client.app[appkeys.CHANNELS]["wechat"]
    await open_window(client, citizen)
    result = await adapter.send(cs("工单已由西湖区城管局签收。"))
    assert result.ok, result
    assert fake_api.calls("/cgi-bin/message/custom/send")[0]["json"]["text"]["content"] == "工单已由西湖区城管局签收。"


async def test_outside_48_hours_is_refused_without_calling_wechat(make_client, citizen, fake_api, clock):
    client = await make_client()
    adapter = client.app[appkeys.CHANNELS]["wechat"]
    result = await adapter.send(cs(openid="o-never-wrote"))
    assert (result.ok, result.error) == (False, "out_of_window")
    await open_window(client, citizen)
    clock.advance(hours=48, seconds=1)
    result = await adapter.send(cs())
    assert (result.ok, result.error) == (False, "out_of_window")
    assert fake_api.calls("/cgi-bin/message/custom/send") == []
    await post(client, citizen.plain(text_xml("还有一个问题")))  # a new message reopens the window
    assert (await adapter.send(cs())).ok


async def test_window_quota_is_honoured(make_client, citizen, fake_api):
    client = await make_client(window_quota=2)
    adapter = client.app[appkeys.CHANNELS]["wechat"]
    await open_window(client, citizen)
    results = [await adapter.send(cs(f"第{i}条")) for i in range(3)]
    assert [r.ok for r in results] == [True, True, False] and results[2].error == "quota_exceeded"
    assert len(fake_api.calls("/cgi-bin/message/custom/send")) == 2


@pytest.mark.parametrize("code_source, expected", [("window", "out_of_window"), ("quota", "quota_exceeded")])
async def test_wechat_error_codes_45015_and_45047(make_client, citizen, fake_api, code_source, expected):
    client = await make_client()
    adapter = client.app[appkeys.CHANNELS]["wechat"]
    await open_window(client, citizen)
    if code_source == "window":
        fake_api.out_of_window.add(OPENID)   # e.g. the citizen unsubscribed meanwhile
    else:
        fake_api.quota = 0
    result = await adapter.send(cs())
    assert (result.ok, result.error) == (False, expected)
    # WeChat said no: we do not try again within this window.
    assert (await adapter.send(cs())).ok is False
    assert len(fake_api.calls("/cgi-bin/message/custom/send")) == 1


async def test_access_token_is_cached_and_refreshed_on_40001(make_client, citizen, fake_api):
    client = await make_client()
    adapter = client.app[appkeys.CHANNELS]["wechat"]
    await open_window(client, citizen)
    assert (await adapter.send(cs("一"))).ok and (await adapter.send(cs("二"))).ok
    assert len(fake_api.calls("/cgi-bin/token")) == 1
    fake_api.expire_tokens()
    assert (await adapter.send(cs("三"))).ok
    assert len(fake_api.calls("/cgi-bin/token")) == 2
    codes = [c["query"]["access_token"] for c in fake_api.calls("/cgi-bin/message/custom/send")]
    # The third send is tried with the stale token, rejected with 40001, then retried with a new one.
    assert codes[0] == codes[1] == codes[2] != codes[3] and len(codes) == 4


async def test_access_token_is_shared_through_redis(make_client, citizen, fake_api, redis_server):
    first = await make_client(redis_url=redis_server.url)
    second = await make_client(redis_url=redis_server.url)
    await first.app[appkeys.REDIS].flushdb()
    await open_window(first, citizen)
    assert (await first.app[appkeys.CHANNELS]["wechat"].send(cs("一"))).ok
    assert (await second.app[appkeys.CHANNELS]["wechat"].send(cs("二"))).ok
    assert len(fake_api.calls("/cgi-bin/token")) == 1


async def test_template_progress_notice_fields_are_one_short_line(make_client, fake_api):
    client = await make_client(templates={"progress": "TM00015-progress"})
    adapter = client.app[appkeys.CHANNELS]["wechat"]
    message = OutboundMessage(
        channel="wechat", recipient=Identity(kind="wechat", value=OPENID), text="", template="progress",
        ticket_number="2026112300001",
        template_data={"number": "2026112300001", "state": "已派单\n承办单位：西湖区城市管理局市容环境卫生管理科室"})
    result = await adapter.send(message)
    assert result.ok and result.external_id == "200228332"
    sent = fake_api.calls("/cgi-bin/message/template/send")[0]["json"]
    assert sent["template_id"] == "TM00015-progress" and sent["touser"] == OPENID
    state = sent["data"]["state"]["value"]
    assert len(state) == 20 and "\n" not in state and state.startswith("已派单 承办单位")
    # A template that is not configured is sent as a customer-service text message instead, which
    # needs the citizen's 48-hour window: this citizen never wrote, so it is refused as out of window.
    unknown = await adapter.send(message.model_copy(update={"template": "nope", "text": "工单已派单"}))
    assert (unknown.ok, unknown.error) == (False, "out_of_window")
    assert len(fake_api.calls("/cgi-bin/message/template/send")) == 1


@pytest.mark.parametrize("payload, opens", [
    ("text.xml", True), ("event_subscribe.xml", True), ("event_scan.xml", True), ("event_click.xml", True),
    ("event_view.xml", False), ("event_location.xml", False),
])
async def test_only_messages_subscribe_scan_and_click_open_the_window(make_client, citizen, fake_api, payload,
                                                                      opens):
    # WeChat allows customer-service messages after these pushes only; a menu link (VIEW) or an
    # automatic location report does not open the 48-hour window, and WeChat would answer 45015.
    client = await make_client()
    adapter = client.app[appkeys.CHANNELS]["wechat"]
    status, _ = await post(client, citizen.plain(fixture(payload, FromUserName="o-window-test")))
    assert status == 200
    result = await adapter.send(cs(openid="o-window-test"))
    assert result.ok is opens and (opens or result.error == "out_of_window"), result
    assert len(fake_api.calls("/cgi-bin/message/custom/send")) == (1 if opens else 0)
