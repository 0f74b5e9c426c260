"""Words that ask what to do (怎么办, 咋办) name no topic: a query's character pairs are taken around them, so a
question ending in 怎么办 is not matched with every article whose title ends in 怎么办. Articles invented here."""

from __future__ import annotations

from knowledge.search.base import SearchDoc
from knowledge.search.embedded import EmbeddedSearchIndex

DOCS = [
    ("wage", "拖欠工资如何维权", "用人单位拖欠工资的，可向劳动保障监察机构投诉。"),
    ("water", "自来水水质发黄怎么办", "水质发黄多为管道锈蚀，放水几分钟后仍发黄请报修。"),
    ("card", "社保卡丢了怎么办", "先挂失，再到合作银行网点补办。"),
]


async def ranked(query: str) -> list[str]:
    index = EmbeddedSearchIndex(None)
    await index.open()
    await index.upsert([SearchDoc(kind="article", ref_id=ref, title=title, body=body, status="published")
                        for ref, title, body in DOCS])
    return [h.ref_id for h in (await index.search(query)).hits]


async def test_a_question_ending_in_what_to_do_matches_only_on_its_topic():
    assert await ranked("公司三个月没发工资怎么办") == ["wage"]
    assert await ranked("燃气灶打不着火怎么办") == []  # no article on its topic: nothing, not every 怎么办 title
    assert await ranked("燃气灶打不着火咋办") == []
    assert (await ranked("社保卡丢了怎么办"))[0] == "card"
    assert (await ranked("自来水发黄了咋办"))[0] == "water"
