"""The chatbot's match measures (knowledge/confidence.py) on real jieba segmentation, no database."""

from __future__ import annotations

import pytest

from knowledge.confidence import RARE, Match, MatchScorer, lacks_asked_fact
from knowledge.synonyms import SynonymSet
from knowledge.tokenize import Tokenizer

LOST_CARD = ("社保卡丢失后如何挂失补办 社保卡丢失后，请携带身份证到社保经办网点或通过手机App挂失并申请补卡。"
             " 社保卡丢失后如何挂失补办 社保卡 挂失 补卡")
LOST_CARD_TOPIC = "社保卡丢失后如何挂失补办 社保卡 挂失 补卡"


@pytest.fixture(scope="module")
def scorer() -> MatchScorer:
    return MatchScorer(Tokenizer(), SynonymSet())


def test_the_citizens_context_is_not_part_of_the_topic(scorer):
    words = scorer.topic_words("我家孩子明年九月就满六岁了，要上公办小学，报名一般是几月份？")
    assert {"公办", "小学", "报名"} <= set(words)
    assert not {"我家", "明年", "九月", "六岁", "几月份", "月份"} & set(words)
    # nothing but context: the words themselves, rather than nothing to match
    assert scorer.topic_words("昨天晚上") == ["昨天", "晚上", "昨天晚上"]


def test_rare_words_weigh_more_than_everyday_ones(scorer):
    assert scorer.weight("公积金") > scorer.weight("准备") > scorer.weight("我们")
    words = ["公积金", "准备"]
    assert scorer.share(words, "住房公积金提取") > 0.5 > scorer.share(words, "请准备好材料")
    assert scorer.share(words, "住房公积金提取") + scorer.share(words, "请准备好材料") == pytest.approx(1.0)


def test_a_synonym_counts_as_the_word(scorer):
    assert scorer.share(["社保"], "灵活就业人员如何缴纳社会保险") == 1.0
    assert scorer.share(["社保"], "住房公积金提取") == 0.0


def test_an_article_mentioning_the_asked_words_in_passing_has_a_low_topic_share(scorer):
    lost_id, lost_card = scorer.match("身份证丢了去哪里补办", [2.0], [LOST_CARD], [LOST_CARD_TOPIC]) + \
        scorer.match("社保卡丢了怎么办", [2.0], [LOST_CARD], [LOST_CARD_TOPIC])
    assert lost_id.question == lost_card.question == 1.0  # the body has every word of both questions
    assert lost_id.topic < 0.2 < lost_card.topic


def test_lead_weighs_search_scores_by_how_well_each_hit_matches(scorer):
    texts = ["住房公积金提取条件和材料 租房提取 还贷提取", "住房公积金贷款额度怎么计算 公积金贷款"]
    topics = texts
    # the search puts the loan article close behind, but it does not talk about withdrawing
    withdraw, loan = scorer.match("公积金怎么提取", [2.0, 1.8], texts, topics)
    assert 1 - 1.8 / 2.0 < withdraw.lead < 1 and loan.lead == 0.0
    assert withdraw.question == 1.0 and loan.question < 1.0
    # the same scores and equal matches: no lead for either
    same = scorer.match("公积金", [2.0, 2.0], ["住房公积金"] * 2, ["住房公积金"] * 2)
    assert [m.lead for m in same] == [0.0, 0.0]
    # a single hit leads by everything; no hits, no matches
    assert scorer.match("公积金怎么提取", [2.0], texts[:1], topics[:1])[0].lead == 1.0
    assert scorer.match("公积金怎么提取", [], [], []) == []


def test_confidence_and_relevance_are_means():
    match = Match(question=0.9, topic=0.3, lead=0.6)
    assert match.confidence == pytest.approx(0.6) and match.relevance == pytest.approx(0.6)


def test_missing_is_the_weightiest_asked_word_the_article_lacks(scorer):
    rent_text = "公租房申请条件 本市户籍、家庭人均收入和住房面积符合标准的家庭可申请公共租赁住房。"
    rent, = scorer.match("公租房租金多少钱", [2.0], [rent_text], ["公租房申请条件 公租房 保障房"])
    words = scorer.topic_words("公租房租金多少钱")
    assert "租金" in words and rent.question < 1.0
    assert rent.missing == pytest.approx(scorer.weight("租金") / sum(scorer.weight(w) for w in words))
    apply, = scorer.match("公租房申请条件", [2.0], [rent_text], ["公租房申请条件 公租房 保障房"])
    assert apply.missing == 0.0 and apply.question == 1.0


@pytest.mark.parametrize("question, text, lacks", [
    ("公租房租金多少钱一平米", "家庭人均月收入低于上年度城镇居民人均可支配收入的70%的，可申请公共租赁住房。", True),
    ("社保卡补办要多少钱", "补卡工本费20元，即时制卡的网点当场领取。", False),
    ("大件垃圾预约上门收运的电话是多少", "大件垃圾需预约上门收运。", True),
    ("停电报修电话是多少", "可拨打国网云州供电公司95598报修。", False),
    ("燃气抢修热线", "撤离到室外后拨打云州燃气24小时抢修电话 023-88896666 或119。", False),
    ("高龄津贴每个月几号发", "80至89周岁每人每月100元。", True),
    ("新生儿多久之内要上户口", "新生儿出生后一个月内申报出生登记。", False),
    ("复工审批要多少天", "提交复工申请表和防控方案。", True),  # 多少天 asks for a time
    ("复工审批要几个工作日", "材料齐全的5个工作日内办结。", False),
    ("住院报销比例是多少", "门诊统筹基金支付比例为70%。", False),  # a share is stated, though not this one
    # narrative mentions of a kind are no question for it
    ("培训班老板电话打不通，钱怎么要回来", "预付卡经营者停业的，消费者可向市场监管部门投诉。", False),
    ("小区停车收费标准是谁定的", "停车服务收费实行市场调节价或政府指导价。", False),
    ("违停贴条要扣几分啊", "15日内未缴纳的每日按罚款数额3%加处罚款。", True),  # 3% is no licence points
    ("违停贴条要扣几分啊", "在禁停路段违法停车的，罚款200元，记3分。", False),
    ("违停贴条要扣几分啊", "临时停车未离开驾驶座的，不扣分。", False),
    # where: an article naming no place, office, channel or number does not say where
    ("大件垃圾在哪里预约", "大件垃圾需预约上门收运，厨余垃圾应沥干水分后投放。", True),
    ("大件垃圾在哪里预约", "大件垃圾可通过“云州环卫”公众号预约上门收运。", False),
    ("出生登记去哪办", "新生儿出生后一个月内应当申报出生登记。", True),
    ("出生登记去哪办", "由监护人到户籍所在地派出所申报出生登记。", False),
    ("物业乱收费找哪个部门", "物业服务收费实行市场调节价。", True),
    ("物业乱收费找哪个部门", "可向所在区住建局反映。", False),
    ("市民中心地址在哪", "市民中心周一至周五上午9点开放。", True),
    ("市民中心地址在哪", "市民中心位于东山区人民路18号。", False),
    # e-mail: an address with an @
    ("信访的电子邮箱是多少", "可拨打12345热线反映。", True),
    ("信访的电子邮箱是多少", "来信请发送至 xinfang@yunzhou.gov.cn。", False),
])
def test_a_question_for_a_kind_of_fact_needs_an_article_stating_one(question, text, lacks):
    assert lacks_asked_fact(question, text) is lacks


def test_a_word_the_dictionary_lacks_weighs_as_its_characters(scorer):
    assert "哪办" in scorer.topic_words("狗证在哪办")  # jieba's scrap of 在哪办
    assert scorer.weight("哪办") == pytest.approx((scorer.weight("哪") + scorer.weight("办")) / 2)
    assert scorer.weight("哪办") < scorer.weight("公积金") < scorer.tokenizer.information("哪办", RARE)


@pytest.mark.parametrize("question, act", [
    ("我家狗老死了，养犬登记要怎么注销？", "注销"),
    ("停电把冰箱里的东西放坏了，能找供电公司赔偿吗", "赔偿"),
    ("社保卡丢了去哪里补办", "补办"),
    ("新生儿落户需要什么材料", None),  # 需要 asks, it names no act
    ("公积金", None),
    ("去外地看病怎么才能直接用医保结算？", "结算"),  # 才能 is a modal
])
def test_the_asked_act_is_the_last_verb_that_is_not_a_modal(scorer, question, act):
    assert scorer.asked_act(question) == act


@pytest.mark.parametrize("question, act", [
    # the question first, then the story: the story's verbs (坐, 丢, 还有) are no act asked about
    ("社保卡怎么补办？上周坐公交丢了，里面还有钱", "补办"),
    # the story first, then the question
    ("我在这边打工三年了没有房子，想问下公租房怎么申请", "申请"),
    # after 怎么 comes the act; the verb after it (挂失) is what is undone
    ("社保卡挂失以后又找到了，怎么解除挂失？", "解除"),
    # a complaint told as a story asks nothing: no act (打桩 is what happens, not what is asked)
    ("东山区凤凰路夜间施工噪音扰民，晚上11点以后还在打桩", None),
    ("小区门口的路灯坏了好几天了，这么久没人修", None),  # 好几天 and 这么 do not ask
    ("煤气味很重咋办", None),  # 咋办 asks, it names no act
    ("居住证办理要几个工作日能拿到", "拿到"),
])
def test_the_asked_act_is_read_in_the_clause_that_asks(scorer, question, act):
    assert scorer.asked_act(question) == act


def test_an_article_without_the_asked_act_lacks_it(scorer):
    register = "在云州市城区饲养犬只应当到居住地派出所办理养犬登记，为犬只注射狂犬病疫苗并佩戴犬牌。"
    topic = "犬只登记和文明养犬 养犬登记 遛狗 犬只"
    cancel, = scorer.match("养犬登记要怎么注销", [2.0], [register], [topic])
    apply, = scorer.match("养犬登记要怎么办理", [2.0], [register], [topic])
    assert cancel.lacks_act and not apply.lacks_act
