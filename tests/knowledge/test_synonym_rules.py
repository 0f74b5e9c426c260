"""What a synonym group may hold: spaces, separators inside list items, single characters; ids never reused."""

from __future__ import annotations

import pytest

from knowledge.errors import InvalidInput
from knowledge.synonyms_store import checked_group, list_groups, save_group
from tests.knowledge.web_helpers import AGENT, EDITOR, web_client

URL = "/api/v1/kb/synonyms"


@pytest.mark.parametrize("terms, message", [
    ("社 保、社会 保险", "同义词「社 保」中间有空格：词中不能有空格，词之间请用顿号、逗号、分号或斜杠分隔"),
    ("社保，社会\u3000保险", "同义词「社会\u3000保险」中间有空格：词中不能有空格，词之间请用顿号、逗号、分号或斜杠分隔"),
    (["社保", "社会 保险"], "同义词「社会 保险」中间有空格：词中不能有空格，词之间请用顿号、逗号、分号或斜杠分隔"),
    (["社保/医保", "社会保险"], "第 1 个同义词「社保/医保」含有分隔符“/”：数组中每项应是一个词，请拆成多项"),
    (["社保", "医保、医疗保险"], "第 2 个同义词「医保、医疗保险」含有分隔符“、”：数组中每项应是一个词，请拆成多项"),
    ("社保、社、保", "同义词「社」只有一个字：单字会扩展到大量无关的检索，请用完整的词（如“社保”而不是“社”）"),
    ("社 保", "同义词「社」只有一个字：单字会扩展到大量无关的检索，请用完整的词（如“社保”而不是“社”）"),
])
def test_refused_groups_say_why(terms, message):
    with pytest.raises(InvalidInput) as err:
        checked_group(terms)
    assert err.value.message == message


def test_accepted_forms():
    assert checked_group(" 社保 、社会保险\n养老保险 ") == ("社保", "社会保险", "养老保险")
    assert checked_group("摩的 黑车  野的") == ("摩的", "黑车", "野的")  # spaces alone still separate
    assert checked_group([" 社保 ", "社会保险"]) == ("社保", "社会保险")
    assert checked_group("犬只、狗、宠物狗", keep=("狗",)) == ("犬只", "狗", "宠物狗")


async def test_single_characters_of_stored_groups_stay_allowed_and_new_ones_are_refused(engine):
    groups = await list_groups(engine)  # the defaults: 犬只,狗 among them
    dog = next(g for g in groups if g["terms"] == ["犬只", "狗"])
    saved = await save_group(engine, "犬只、狗、狗狗", "editor", dog["id"])
    assert saved["terms"] == ["犬只", "狗", "狗狗"]
    assert (await save_group(engine, "宠物狗、狗", "editor"))["terms"] == ["宠物狗", "狗"]
    with pytest.raises(InvalidInput):
        await save_group(engine, "猫咪、猫", "editor")


async def test_a_deleted_groups_id_is_never_given_again(aiohttp_client, engine, clock, tmp_path):
    client = await web_client(aiohttp_client, engine, clock, tmp_path)
    made = await (await client.post(URL, json={"terms": "摩的、黑车"}, headers=EDITOR)).json()
    assert (await client.delete(f"{URL}/{made['id']}", headers=EDITOR)).status == 200
    resp = await client.post(URL, json={"terms": "野的、非法营运"}, headers=EDITOR)
    assert resp.status == 201 and (await resp.json())["id"] > made["id"]
    # a stale form still naming the deleted group edits nothing
    resp = await client.put(f"{URL}/{made['id']}", json={"terms": "摩的、黑车、野的"}, headers=EDITOR)
    assert resp.status == 404
    groups = (await (await client.get(URL, headers=AGENT)).json())["items"]
    assert ["野的", "非法营运"] in [g["terms"] for g in groups]
