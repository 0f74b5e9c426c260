"""Whether a citizen's message states a problem to be acted on (a complaint, a report, a request for action)
rather than asks something: 楼下工地夜间施工噪音扰民严重，望处理 is one, 噪音扰民怎么投诉？ is not.

The chatbot (:mod:`knowledge.chatbot`) leads its answer (or its choice of articles) to such a message with the
offer to submit a request. The test is a few word lists, matched as whole words of
jieba's accurate mode (不管 fires in 物业也不管, not in 不管怎样): a message that asks nothing (no question mark
or asking word, :data:`knowledge.confidence.ASKS`) and either asks for action, reports a problem or neglect, or
tells of a fault that lasts.
"""

from __future__ import annotations

import re

from hotline.textnorm import normalise
from knowledge.confidence import ASKS
from knowledge.tokenize import Tokenizer

# Asking words confidence.ASKS does not hold (找谁, not 谁家), and consultations (咨询 …, 想了解 …): no complaint.
ASKING_MORE = re.compile(r"请问|是不是|想问|问一下|问问|多久|多长|谁(?!家)|咨询|了解")
# Counting words that tell rather than ask (这几天, 十几年, 几天了没人管, 什么都不管): removed before ASKS.
TELLING_COUNTS = re.compile(r"[这那近前十]几|几(?=[十百千万])|几个?(?:天|日|周|星期|月|年|次|回)[了都也还]|(?:什么|啥)[都也]")
# Asking for action: one of these words ...
REQUEST = frozenset("望 希望 请 恳请 恳求 要求 强烈要求 麻烦 盼 敦促 尽快 赶紧 抓紧 务必".split())
# ... and one of these acts (请尽快修一下, 望处理, 麻烦管一管).
ACTION = frozenset("处理 解决 整改 整治 查处 管一管 管管 管 协调 核实 取缔 清理 清运 维修 修复 修理 修 调查 督促 "
                   "监管 处罚 介入 查一查 查查 制止 拆除 疏通 治理 落实 说法 交代".split())
# Reporting words (我要投诉…, 举报…), unless the message is after the channel: 投诉电话, 举报途径.
REPORT = frozenset("投诉 举报 反映 曝光 检举".split())
CHANNEL = frozenset("电话 热线 号码 电话号码 渠道 途径 流程 方式 方法 平台 网站 窗口 邮箱".split())
# Neglect by whoever should act (物业也不管, 一直没人处理).
NEGLECT = frozenset("没人管 没有人管 无人管 不管不问 不理 没人理 不理睬 不予理睬 不作为 乱作为 没人处理 无人处理 不处理 "
                    "不解决 没解决 推诿 踢皮球 扯皮 石沉大海 敷衍 拒不".split())
# Nobody doing the act (没人修, 没有人清理): one of these words before an ACTION word.
NOBODY = frozenset("没人 无人 没有人".split())
# 不管 is neglect only at a clause's end (物业也不管了), not in 不管是谁 (whoever).
NEGLECT_AT_END = "不管"
ENDING = frozenset("了 啊 呀 的 事 呢 嘛 啦".split())
# Harm done by someone (扰民, 拖欠工资, 卖过期食品): a complaint whatever else is said.
HARM = frozenset("扰民 严重影响 影响休息 影响睡眠 影响通行 影响出行 拖欠 拖欠工资 欠薪 欠工资 克扣 乱收费 乱停车 乱停乱放 "
                 "乱扔 乱倒 乱搭乱建 私搭乱建 违建 违章建筑 占道 占道经营 偷排 直排 缺斤少两 宰客 拒载 霸王条款 "
                 "强制消费 过期食品 以次充好 不退 不退款 变质 无证经营 违规 违规经营 黑车 非法营运 扬尘 臭气熏天 "
                 "不打表 绕路 绕远路 不开发票 不给发票 不给开发票 不开票 不牵绳".split())
# 乱 before (or joined to) one of these verbs (乱收, 乱停, 乱扔): done where or as it must not be.
DISORDERLY = frozenset("收 停 扔 丢 倒 堆 放 摆 搭 建 贴 排 停放 堆放 摆放 收费 涨价".split())
# A fault or nuisance (路灯坏了, 下水道堵了, 楼上很吵) is a complaint when it lasts (see LASTING) ...
FAULT = frozenset("坏 堵 漏 漏水 渗水 不亮 灯不亮 积水 停水 停电 爆裂 爆管 破损 塌陷 松动 脱落 隐患 吵 噪音 臭 异味 油烟 "
                  "不热 不通 没信号".split())
# ... said by one of these words or a duration (一个多月了, 好几天了): 我的社保卡坏了 is a question unsaid.
LASTING = frozenset("一直 至今 迟迟 多次 屡次 反复 长期 天天 每天 每晚 整夜 经常 总是 老是 仍然 依然 好久 很久 始终".split())
# ... or said strongly (油烟太大了, 吵得特别厉害): a fault stated with one of these words.
INTENSE = frozenset("太 特别 非常 十分 极其 严重 厉害".split())
DURATION = re.compile(r"[一两二三四五六七八九十几半多\d]+个?多?整?(?:天|日|周|星期|礼拜|月|年)多?了")

_PUNCTUATION = re.compile(r"\W")
PHRASE_FREQ = 50000  # high enough for jieba to keep each listed phrase whole
_tokenizer: list[Tokenizer] = []  # made on first use (a private jieba knowing the phrases above)


def _words(text: str) -> list[str]:
    """``text`` in jieba's accurate mode without its statistical guesses (fast; every listed phrase is known)."""
    if not _tokenizer:
        phrases = REQUEST | ACTION | REPORT | CHANNEL | NEGLECT | NOBODY | HARM | FAULT | LASTING | INTENSE
        tokenizer = Tokenizer()
        for phrase in phrases:  # preferred to the words they are made of (没人 over 没 人, 不退 over 不 退)
            if len(phrase) > 1:
                tokenizer.add_word(phrase, freq=PHRASE_FREQ)
        _tokenizer.append(tokenizer)
    return _tokenizer[0].accurate(text)


def asks(text: str) -> bool:
    """Whether ``text`` asks something (噪音扰民怎么投诉, 路灯坏了找哪个部门) or is a consultation."""
    return ASKS.search(TELLING_COUNTS.sub("", text)) is not None or ASKING_MORE.search(text) is not None


def is_complaint(text: str) -> bool:
    """Whether ``text`` states a problem and wants action without asking anything."""
    text = normalise((text or "").strip())
    if not text or asks(text):
        return False
    words = _words(text)
    found = set(words)
    pairs = list(zip(words, [*words[1:], ""]))
    if found & REQUEST and found & ACTION:
        return True
    if found & REPORT and not found & CHANNEL:
        return True
    if found & (NEGLECT | HARM) or any(a in NOBODY and b in ACTION or a[0] == "乱" and (a[1:] or b) in DISORDERLY
                                        for a, b in pairs):
        return True
    if any(a == NEGLECT_AT_END and (not b or b in ENDING or _PUNCTUATION.fullmatch(b)) for a, b in pairs):
        return True
    return bool(found & FAULT) and bool(found & (LASTING | INTENSE) or DURATION.search(text))
