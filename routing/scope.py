"""Acceptance scope: the seven standard exclusions of the 12345 hotline.

A hit is a *suggestion* for the agent ("this may be outside our scope,
because ..."); the router never rejects a ticket by itself. Checks run in
order and the first one that applies is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hotline.lifecycle import REJECT_REASONS

# (code, Chinese reason shown to the agent): the ticket ``reject`` action's reasons, so an agent can reject
# with the code the router suggests.
EXCLUSIONS = REJECT_REASONS


@dataclass(frozen=True)
class ScopeRule:
    code: str
    pattern: re.Pattern
    unless: re.Pattern | None = None


def _re(p: str) -> re.Pattern:
    return re.compile(p)


# Only a landmark: "法院门口的路灯坏了" is about the street lamp.
NOT_LANDMARK = r"(?!(?:礼堂|大楼|大院)?(?:门口|旁边|附近|对面|周边|周围|路口|后面|前面|隔壁|那条路|楼下))"
MILITARY_WELFARE = (r"军属|军嫂|家属|家庭|烈属|烈士|退役|退伍|复员|转业|优抚|优待|拥军|优属|双拥|随军|帮扶|救助|补助|慰问"
                    r"|抚恤|安置|困难|照顾|光荣")
MILITARY_INTERNAL = r"内部|机密|秘密|违纪|军纪|处分|体罚|打骂|被打|欺负|提干|士官|训练|演习|营区|驻地|医院"
# Someone else breaks the law and the caller reports it ("有人在小区门口卖假证", "举报…走后门"): a normal 举报.
REPORTED_BY_CALLER = r"举报|查处|打击|取缔|小广告|有人[^，。]{0,8}(卖|售|贩|兜售|发|贴|办|做|开)|(卖|售|贩)[^，。]{0,3}假"

RULES: tuple[ScopeRule, ...] = (
    ScopeRule("in_litigation", _re(
        r"(已经?|正在|目前|现在|已向[^，。]{0,10})[^，。]{0,6}(起诉|上诉|申诉到法院|打官司|诉讼|申请了?[^，。]{0,6}(仲裁|复议)|仲裁)"
        r"|(仲裁|诉讼|复议|审理|官司)(程序)?[^，。]{0,2}(中|阶段|期间|还没判|没结果)|法院已经?(受理|立案|开庭)|已经?立案|等待开庭|等判决")),
    ScopeRule("special_organs", _re(
        r"(?:法院|检察院|法官|检察官|判决书|执行庭|立案庭|人大代表|人大常委|政协委员|政协|纪委|监委|党委|党支部|党组织|党员组织关系|党费)"
        + NOT_LANDMARK)),
    # The army's own affairs are out of scope; support for soldiers' families and veterans (拥军优属,
    # 退役军人事务) is city business, unless the text is about the army's internal matters after all.
    ScopeRule("special_organs", _re(
        r"(?:(?<!退役|退伍|复员|转业|伤残|残疾)军人|部队|军队|军区|武警|驻军|军事管理区)" + NOT_LANDMARK),
        # a welfare word, and no internal-matter word anywhere in the text
        unless=_re(rf"^(?![\s\S]*(?:{MILITARY_INTERNAL}))[\s\S]*(?:{MILITARY_WELFARE})")),
    ScopeRule("secret_privacy", _re(
        r"国家机密|国家秘密|军事机密|商业秘密|内部资料|竞争对手[^，。]{0,8}(资料|信息|报价|底价|客户)"
        r"|(查|查询|调取|告诉我|提供)[^，。]{0,8}(他人|别人|某人|前妻|前夫|邻居|同事|他|她|对方)[^，。]{0,8}"
        r"(电话|手机号|住址|地址|身份证|个人信息|开房|行踪|记录|户籍|收入|工资|存款|病历|在哪里?(上班|工作|住))"
        r"|(开房记录|通话记录|行车轨迹|聊天记录)")),
    ScopeRule("handled_nothing_new", _re(
        r"(已经?|早就|之前|上次)[^，。]{0,8}(办结|答复|回复|处理完毕|处理过|处理了|给了结果)[^。]{0,30}"
        r"(没有新|无新|没什么新|同样的|一样的|还是这个|再反映一次|再次反映|重复反映|再打一次|还想再问)"),
        unless=_re(r"没解决|未解决|没有解决|仍然|依然|又出现|又开始|再次发生|新情况|新问题|不认可|不满意|没落实|未落实|没有落实")),
    ScopeRule("against_law", _re(
        # 请假/产假/病假证明 is a leave certificate, not a fake one
        r"走后门|开后门|通融一下|特殊照顾|网开一面|办假|(?<![请休放病事婚产年])假[^，。]{0,3}证|假发票|开个证明就行"
        r"|绕过[^，。]{0,6}(规定|政策|审批)"
        r"|不想(交|缴)[^，。]{0,4}(税|罚款|社保)|(撤销|取消|免掉)[^，。]{0,6}罚款|违建[^，。]{0,6}合法|合法化"
        r"|(插队|提前)[^，。]{0,6}(办|拿|分|摇号)|加点分|我认识人|托关系|走关系|不按(规定|政策)[^，。]{0,6}(给|办|批)|通过关系|找关系|私了"),
        unless=_re(REPORTED_BY_CALLER)),
    ScopeRule("not_competent", _re(
        r"借[^，。]{0,10}不还|欠[^，。]{0,4}钱不还|私人借贷|离婚(?!登记|证|手续|后[^，。]{0,6}(户口|落户|迁户))|遗产|继承|分家"
        r"|夫妻(?!投靠)|婆媳|感情|男朋友|女朋友|恋爱|出轨|相亲|彩礼"
        r"|亲戚[^，。]{0,6}(矛盾|纠纷|吵架)|家庭矛盾|家庭纠纷|私人矛盾|私人纠纷|朋友[^，。]{0,6}(欠|借)|网友|游戏账号|彩票|算命|风水"
        r"|(老婆|老公|妻子|丈夫)[^，。]{0,4}(跟别人|跑了|出轨|不回家|找回来)"
        # another city's affairs; "外地户口" or "外地人" is the caller's status in this city, not another city's matter
        r"|(北京|上海|广州|深圳|外省|外地|其他城市)(?!户口|户籍|人|车牌|牌照)[^，。]{0,10}(的事|政府|户口|社保|房子)")),
)

# Greetings, thanks, tests and noise; a message made only of these has nothing to handle.
FILLER_RE = _re(r"(你好|您好|喂|在吗|在不在|有人吗|测试|测试一下|test|hello|hi|哈|呵|嘿|嗨|嗯|哦|噢|啊|呃|额|唉|哎|好的|好|行|收到"
                r"|知道了|明白了?|谢谢|多谢|感谢|没事|没事了|打错了|不好意思|再见|拜拜|随便问问|无聊|ok)+")
NOISE_RE = _re(r"[\s，。！？!?,.、…~·:：;；\-_*#@/\\'\"“”‘’()（）]+")
LATIN_RE = _re(r"[\da-z]{1,6}|\d+")  # "asdf", "123", a bare phone number


def no_substance(text: str) -> bool:
    """Punctuation, one character, greetings or noise. Shortness alone does not decide: "停水了" is a request."""
    compact = NOISE_RE.sub("", text.lower())
    return len(compact) <= 1 or bool(FILLER_RE.fullmatch(compact) or LATIN_RE.fullmatch(compact))


class ScopeChecker:
    """``check`` returns ``{"code", "reason", "evidence"}`` for a likely exclusion, or None."""

    def __init__(self, rules: tuple[ScopeRule, ...] = RULES) -> None:
        self.rules = rules

    def check(self, text: str) -> dict | None:
        text = (text or "").strip()
        if no_substance(text):
            return {"code": "no_substance", "reason": EXCLUSIONS["no_substance"], "evidence": text[:20]}
        for rule in self.rules:
            m = rule.pattern.search(text)
            if m and not (rule.unless and rule.unless.search(text)):
                return {"code": rule.code, "reason": EXCLUSIONS[rule.code], "evidence": m.group(0)}
        return None
