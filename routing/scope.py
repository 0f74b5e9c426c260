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
    unless: re.Pattern | None = None  # anywhere in the text: the hit does not count
    needs: re.Pattern | None = None  # must occur in the same sentence as the hit


def _re(p: str) -> re.Pattern:
    return re.compile(p)


SENTENCE_END = _re(r"[。！？!?\n]")

# Only a landmark: "法院门口的路灯坏了", "检察院内在建的小区", "武警后勤基地以西的空地" are about the place.
NOT_LANDMARK = (r"(?!(?:礼堂|大楼|大院|医院|总医院|后勤基地|基地|宿舍|家属院)?"
                r"(?:门口|旁边|旁的|附近|对面|周边|周围|路口|后面|前面|隔壁|那条路|楼下|一带|之间|以[东南西北]|[东南西北]侧"
                r"|内在建|院内|内的小区|大道|路|街))")
MILITARY_WELFARE = (r"军属|军嫂|家属|家庭|烈属|烈士|退役|退伍|复员|转业|优抚|优待|拥军|优属|双拥|随军|帮扶|救助|补助|慰问"
                    r"|抚恤|安置|困难|照顾|光荣|补贴|待遇|老兵|老军人|战友|服役|军龄|工龄")
MILITARY_INTERNAL = r"内部|机密|秘密|违纪|军纪|处分|体罚|打骂|被打|欺负|提干|训练|演习|营区|驻地|(?:军|部队|武警)[^，。]{0,4}医院"
# Someone else breaks the law and the caller reports or complains about it ("有人在小区门口卖假证",
# "举报…走后门", "投诉学校招生存在找关系的情况"): a normal complaint, not a request for an illegal favour.
REPORTED_BY_CALLER = (r"举报|查处|打击|取缔|小广告|投诉|反映|曝光|揭露|涉嫌|腐败|行贿|受贿|权钱交易|虚假"
                      r"|有人[^，。]{0,8}(卖|售|贩|兜售|发|贴|办|做|开)|(卖|售|贩)[^，。]{0,3}假")
# The caller asks for it (for themself): "能不能", "帮我", "我想", "希望…给我".
ASKS_FOR_IT = (r"能不能|能否|可不可以|可以吗|行不行|帮我|给我|让我|替我|我想|我要|我认识|我有关系|有没有办法|希望"
               r"|请(你们|您|政府|领导|帮|给|让|允许|通过)|恳请")
# The caller asks the hotline or the government to settle a private matter.
ASKS_US = (r"(你们|您|政府|热线|领导|社区)[^，。]{0,6}(帮|管|出面|调解|评理|处理|判断|找|介绍)|请[^，。]{0,6}(帮|调解|评理|出面|管)"
           r"|帮我|帮忙|想让|出面|调解|评理|管管|管一管|找回")

COURT = r"法院|中院|高院|法庭|检察院|检察机关"
# A grievance about how a court or procuratorate handles a case. Neutral narrative ("法院于2011年宣判",
# "J8县法院受理后", "依法申请人民法院强制执行") or a citation (《…人民法院民事判决书》) is a passing mention.
COURT_GRIEVANCE = (r"不立案|不予立案|不受理|不予受理|迟迟|拖延|一直不|一直没|至今未|至今没|不执行|执行不力|不作为|枉法|不公|欠公平"
                   r"|公正|偏袒|错判|冤|渎职|违法|拒绝|驳回|重审|再审|不服|态度")
DISCIPLINE = r"纪委|监委|纪检|监察委|纪监委"
MISCONDUCT = r"违纪|违反党纪|党纪|贪污|受贿|腐败|渎职|以权谋私|挪用公款|作风问题"

RULES: tuple[ScopeRule, ...] = (
    ScopeRule("in_litigation", _re(
        r"(已经?|正在|目前|现在(?:还|正)?在|已向[^，。]{0,10})[^，。]{0,6}(起诉|上诉|申诉到法院|打官司|诉讼(?!服务)"
        r"|申请了?[^，。]{0,6}(仲裁|复议)|仲裁)"
        # a gap between "already" and the arbitration body: "已经将此投诉到劳动局仲裁部门处理"
        r"|已经?[^，。]{0,12}(投诉|提交|递交|申请|起诉|告|诉)(到|至|给)[^，。]{0,8}(仲裁|法院)"
        r"|(仲裁|诉讼(?!服务)|复议|审理|官司)(程序)?[^，。]{0,2}(中|阶段|期间|还没判|没结果)"
        # a court or arbitration body has accepted the case; "城管已立案" or "派出所已经立案" is an administrative case
        r"|(法院|仲裁委?|仲裁院)[^，。]{0,4}已经?(受理|立案|开庭)|已经?被?(法院|仲裁委?)[^，。]{0,4}(受理|立案)"
        r"|等待开庭|等判决")),
    # Courts and procuratorates: only their own business (a ruling, its enforcement, a case); a court
    # named as a landmark or in passing ("否则我向法院起诉你", "被法院冻结") does not count.
    ScopeRule("special_organs", _re(
        r"(?<!执)法官|审判长|检察官|检察长|执行庭|立案庭|(?<!家)庭长|(判决书|裁定书)[上里中]?[^，。]{0,8}(写错|错误|有误|不服)"
        rf"|(?:{COURT})(?!关于)[^，。！？]{{0,16}}(?:{COURT_GRIEVANCE})|不服[^，。！？]{{0,10}}(?:{COURT})"
        rf"|(?:向|到)(?:{COURT})[^，。！？]{{0,6}}申诉"
        # the discipline commission's own handling, or misconduct of officials reported to it
        rf"|(?:{DISCIPLINE})[^，。！？]{{0,10}}(?:调查|审查|立案|处理|查处|答复|回复)[^，。！？]{{0,8}}"
        r"(?:没结果|没有结果|无果|不了了之|一直没|迟迟|至今|不公|不作为)"
        rf"|(?:{DISCIPLINE})[^，。；！？]{{0,12}}(?:{MISCONDUCT})|(?:{MISCONDUCT})[^，。；！？]{{0,12}}(?:{DISCIPLINE})"
        rf"|(?:党支部|党委|党总支|党员|书记)[^，。！？]{{0,8}}(?:违纪|违反党纪|党纪处分)"
        # party affairs ("镇党委、政府" is just the local government)
        r"|组织关系[^。]{0,20}(怎么|如何|能否|能不能|不接收|不接受|拒绝|需要|想|办理)|党费|发展党员|(开除|恢复|保留|取消)党籍"
        r"|(?<![纳列编收投引])入党[^，。]{0,6}(申请|手续|材料|政审|条件|程序|介绍人|积极分子|需要|通过)"
        r"|(申请|能否|能不能|不能|如何|怎么|想|要求)入党"
        r"|(?:党支部|党委|党总支|党组织)[^，。！？]{0,6}(选举|换届|处分|组织生活)"
        # NPC and CPPCC business, not a person who happens to be a deputy
        r"|(?:人大|政协)[^，。！？]{0,8}(选举|提案|议案|代表资格|履职|换届)|人大常委会?[^，。]{0,6}(决定|决议|任免)")),
    # The army's own affairs are out of scope; support for soldiers' families and veterans (拥军优属,
    # 退役军人事务) is city business, unless the text is about the army's internal matters after all.
    ScopeRule("special_organs", _re(
        r"(?:(?<!退役|退伍|复员|转业|伤残|残疾|复转|军转)(?<!退役的|退伍的)军人|(?<![干大])部队|军队|军区|武警|驻军|军事管理区)"
        + NOT_LANDMARK),
        # a welfare word, and no internal-matter word anywhere in the text
        unless=_re(rf"^(?![\s\S]*(?:{MILITARY_INTERNAL}))[\s\S]*(?:{MILITARY_WELFARE})")),
    ScopeRule("secret_privacy", _re(
        r"国家机密|国家秘密|军事机密|商业秘密|内部资料|竞争对手[^，。]{0,8}(资料|信息|报价|底价|客户)"
        r"|(查|查询|调取|告诉我|提供)[^，。]{0,8}(他人|别人|某人|前妻|前夫|邻居|同事|他|她|对方)[^，。]{0,8}"
        r"(电话|手机号|住址|地址|身份证|个人信息|开房|行踪|记录|户籍|收入|工资|存款|病历|在哪里?(上班|工作|住))"
        # someone's records asked for; "我有聊天记录为证" is the caller's own evidence
        r"|(查|查询|调取|调出|调查|提供|告诉我|给我看)[^，。]{0,10}(开房记录|通话记录|行车轨迹|聊天记录)"),
        unless=_re(r"商业秘密[^，。]{0,6}(泄露|被盗|侵犯)")),
    ScopeRule("handled_nothing_new", _re(
        r"(已经?|早就|之前|上次)[^，。]{0,8}(办结|答复|回复|处理完毕|处理过|处理了|给了结果)[^。]{0,30}"
        r"(没有新|无新|没什么新|同样的|一样的|还是这个|再反映一次|再次反映|重复反映|再打一次|还想再问)"),
        unless=_re(r"没解决|未解决|没有解决|仍然|依然|又出现|又开始|再次发生|新情况|新问题|不认可|不满意|没落实|未落实|没有落实")),
    ScopeRule("against_law", _re(
        # 请假/产假/病假证明 is a leave certificate, not a fake one
        r"走后门|(?<!打)开后门(?![^，。]{0,6}(通道|进出|出入|时|下车|上车|夹))|通融一下|特殊照顾|网开一面|办假|(?<![请休放病事婚产年虚])假[^，。]{0,3}证|假发票|开个证明就行"
        r"|绕过[^，。]{0,6}(规定|政策|审批)"
        r"|不想(交|缴)[^，。]{0,4}(税|罚款|社保)|(撤销|取消|免掉)[^，。]{0,6}罚款|合法化"
        r"|插队[^，。]{0,6}(办|拿|分|摇号)|加点分|我认识人|(?<![他她们方])托关系|(?<!没有)(?<!没)(?<![他她们方])走关系|不按(规定|政策)[^，。]{0,6}(给|办|批)|(?<![他她们方])通过关系|(?<![他她们方])找关系"),
        unless=_re(REPORTED_BY_CALLER), needs=_re(ASKS_FOR_IT)),
    # Private matters: a debt between people, a game account, a lottery prize, another city's affairs.
    ScopeRule("not_competent", _re(
        r"借[^，。]{0,10}不还|欠[^，。]{0,4}钱不还|私人借贷|朋友[^，。]{0,6}(欠|借)[^，。]{0,10}(不还|没还|赖账)"
        r"|游戏账号[^，。]{0,4}(被盗|被封|丢|找回)|彩票[^，。]{0,6}(中奖|兑奖|兑付)|(?<![车轨])出轨"
        # another city's affairs that we are asked to handle there; "外地户口", "在深圳交了社保想转回来" are this city's business
        r"|(北京|上海|广州|深圳|外省|外地|其他城市)(?!户口|户籍|人|车牌|牌照)[^，。]{0,10}(的事|政府|户口|社保|房子)"
        r"[^。]{0,12}(你们|帮我|帮忙)[^。]{0,4}(办|管|查|处理|解决)")),
    # Family, romance and personal quarrels that the caller asks us to settle; a long letter that tells how
    # a policy "导致家庭矛盾" or how a divorce happened years ago is about the policy.
    ScopeRule("not_competent", _re(
        # a divorce itself; "离婚后户口怎么迁", "离婚率" or "离婚证明" are registration and policy questions
        r"(要|想|闹|打算|准备)离婚|离婚(协议|官司|纠纷|财产|分割|诉讼|调解)|离婚[^，。]{0,8}(怎么分|分财产|孩子归)"
        r"|(争|抢|分)[^，。]{0,4}遗产|遗产[^，。]{0,4}(纠纷|分配|怎么分)|继承(权|人|遗产|纠纷|财产|房产|房子)"
        r"|分家产|(?<!部)分家[^，。]{0,6}(纠纷|矛盾|不公|不均|吵|打)"
        r"|夫妻[^，。]{0,4}(矛盾|纠纷|吵架|打架|感情|分居|闹)|婆媳|感情(纠纷|破裂|受骗)|骗[^，。]{0,4}感情"
        r"|(男|女)朋友[^，。]{0,10}(分手|骗|出轨|跑了|不理|吵|打|纠纷|欠|借|彩礼)|恋爱(纠纷|关系|中)|相亲|彩礼"
        r"|亲戚[^，。]{0,6}(矛盾|纠纷|吵架)|家庭矛盾|家庭纠纷|私人矛盾|私人纠纷"
        # a personal online contact; "各位领导和网友好" is a greeting
        r"|网友[^，。]{0,6}(借|骗|欠|拉黑|见面|失联)|算命|(看|算|测)[^，。]{0,6}风水"
        r"|(老婆|老公|妻子|丈夫)[^，。]{0,4}(跟别人|跑了|出轨|不回家|找回来)"),
        needs=_re(ASKS_US)),
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
            if rule.unless and rule.unless.search(text):
                continue
            for m in rule.pattern.finditer(text):
                if rule.needs is None or rule.needs.search(sentence_at(text, m.start(), m.end())):
                    return {"code": rule.code, "reason": EXCLUSIONS[rule.code], "evidence": m.group(0)}
        return None


def sentence_at(text: str, start: int, end: int) -> str:
    """The sentence (between 。！？ or line breaks) that holds ``text[start:end]``."""
    left = max((m.end() for m in SENTENCE_END.finditer(text, 0, start)), default=0)
    right = SENTENCE_END.search(text, end)
    return text[left:right.start() if right else len(text)]
