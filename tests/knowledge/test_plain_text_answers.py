"""What agents insert and what the chatbot sends keep an article's list bullets, table rows and link addresses
(the plain text made by ``knowledge.sanitize.plain_text`` when an article is saved)."""

from __future__ import annotations

from knowledge.articles import ArticleService
from knowledge.assist import answer_block
from tests.knowledge.helpers import EDITOR, demo_bot, seed_categories, seed_units
from tests.knowledge.test_chatbot import msg

GUIDE_TITLE = "住房公积金租房提取办理指南"
GUIDE_HTML = ("<p>所需材料：</p><ul><li>身份证</li><li>户口簿</li></ul>"
              "<ol><li>网上申请</li><li>窗口审核</li></ol>"
              "<table><tr><th>区域</th><th>窗口地址</th></tr><tr><td>西湖区</td><td>文三路138号</td></tr></table>"
              '<p>详见<a href="https://gjj.yunzhou.gov.cn/bszn/zftq.html">公积金办事指南</a>。</p>')
GUIDE_TEXT = "\n".join(["所需材料：", "• 身份证", "• 户口簿", "1. 网上申请", "2. 窗口审核", "区域 | 窗口地址",
                        "西湖区 | 文三路138号", "详见公积金办事指南（https://gjj.yunzhou.gov.cn/bszn/zftq.html）。"])


async def test_the_answer_block_an_agent_inserts_shows_bullets_rows_and_addresses(engine, clock):
    await seed_units(engine, clock.now())
    await seed_categories(engine)
    service = ArticleService(engine, clock)
    created = await service.create(EDITOR, {"title": GUIDE_TITLE, "body": GUIDE_HTML, "category": "C1103",
                                            "unit": None, "keywords": ["公积金"]})
    article = await service.get(created["id"])
    assert article["body_text"] == GUIDE_TEXT
    assert answer_block(article) == f"{GUIDE_TEXT}\n（依据：《{GUIDE_TITLE}》，知识编号 {created['id']}）"


async def test_the_chatbot_answer_shows_bullets_and_the_address(engine, clock):
    bot, publish = await demo_bot(engine, clock)
    article_id = await publish(GUIDE_TITLE, GUIDE_HTML, None, ["公积金租房提取"])
    reply = await bot.respond(msg("住房公积金租房提取怎么办理？"))
    assert reply.kind == "answer" and reply.article_id == article_id
    answer, source = reply.text.split("\n\n", 1)
    assert answer == GUIDE_TEXT
    assert "• 身份证\n• 户口簿" in reply.text and "（https://gjj.yunzhou.gov.cn/bszn/zftq.html）" in reply.text
    assert source.startswith(f"来源：《{GUIDE_TITLE}》（知识编号 {article_id}）")


def test_a_title_keeps_a_links_text_only():
    from knowledge.article_input import plain_title

    assert plain_title('<a href="https://yz.gov.cn/guide">办事指南</a>：居住证') == "办事指南：居住证"
    assert plain_title(plain_title('<a href="https://yz.gov.cn">办事指南</a>')) == "办事指南"
