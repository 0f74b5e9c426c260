"""Emergency detection: fire, gas leaks, people trapped, crime in progress, medical emergencies.

A hit means the agent must transfer the caller at once to 119, 110 or 120.
Rules are explicit regular expressions evaluated per clause. A trigger does
not fire when its clause is about a hazard, a fee, a complaint or another
non-urgent matter (``消防通道被占`` is not a fire), when the clause only fears
the event (``楼道里堆满杂物，怕着火``), when the text puts the event in the past
without saying it is still going on, nor when the caller only asks whether a
rumour is true (``听说有人跳楼，是真的吗``).

A crime word with no time word is read as happening now when the text says
someone is doing it (``有人在街上打架`` → 110); a past-time word, a habit word or
a complaint word turns the same sentence into a complaint.

Fraud is a 110 matter only while it is happening or has just happened (money
just transferred, the fraudster still on the line or asking for more), because
the police can still freeze the transfer. Fraud long ago, scams in general,
consumer disputes (false advertising, a shop that ran off with prepaid cards)
and asking where to report a fraud with no such sign are consultations. Someone
in the water is 119 with reason 溺水; once out of the water, first aid is 120.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from routing import liveness


@dataclass(frozen=True)
class EmergencyRule:
    number: str
    reason: str
    trigger: re.Pattern
    needs_now: bool = False  # crime words also appear in complaints: require a sign it is happening now
    context: re.Pattern | None = None  # must also match a live clause of the text (the lift is stuck)
    unless: re.Pattern | None = None  # the clause is about something else (a lost wallet, not a lost child)
    hazard: bool = False  # fearing it ("怕着火", "担心倒塌") reports a hazard; fearing a suicide or a stroke is urgent
    unless_text: re.Pattern | None = None  # anywhere in the text, the matter is something else (a shop that closed)


def _re(p: str) -> re.Pattern:
    return re.compile(p)


# People who cannot be left alone when they go missing (a wallet or a dog is not a 110 case).
_VULNERABLE = (r"老人|老太太|老大爷|大爷|奶奶|爷爷|外婆|外公|姥姥|姥爷|父亲|母亲|爸|妈|孩子|小孩|儿子|女儿|闺女|孙子|孙女"
               r"|外孙|宝宝|娃|小朋友|学生|病人|患者")
VULNERABLE = f"({_VULNERABLE})"
PERSON = f"(人|乘客|孕妇|{_VULNERABLE})"
# Who can lie on the ground: "有人把废机油倒在地上" pours a thing, "树被刮倒在地上" is not a patient.
SOMEONE = f"(?<!被)({PERSON[1:-1]}|男的|女的|男子|女子|小伙|姑娘|醉汉|他|她|老公|老婆|丈夫|妻子|朋友|同事|邻居)"


RULES: tuple[EmergencyRule, ...] = (
    EmergencyRule("119", "火灾", _re(
        r"着火|起火|失火|火灾|烧起来|烧着了|大火|火势|浓烟|冒烟|冒火(?!花)|火苗|燃起来|爆炸|炸了|(全|都)是烟(?![味头])"),
        hazard=True),  # 冒火花 (sparks) is an electrical fault, not a fire
    EmergencyRule("119", "燃气泄漏", _re(
        r"(燃气|煤气|天然气|液化气|气罐)[^，。！]{0,6}(泄漏|泄露|漏气|漏了|喷|味道?(很|特别|非常)?[大浓重冲])"
        r"|(燃气|煤气|天然气)(管道?|管线|阀门)[^，。！]{0,4}(挖断|破裂|爆裂|断了|裂了)"
        r"|闻到[^，。！]{0,8}(煤气|燃气|天然气|液化气)味|漏气"), hazard=True),
    EmergencyRule("119", "人员被困", _re(
        r"(被困|困在|困住|卡住|关在)[^，。！]{0,8}(电梯|里面|出不来|楼顶|水里)|电梯[^，。！]{0,6}(困人|关人|困住)"
        r"|掉(进|到|入|下)[^，。！]{0,6}(井|坑|粪池|化粪池|沟)|被(洪水|大水)围|(锁|关|困)在[^，。！]{0,6}(车|屋|房间)里|出不来"
        r"|" + PERSON + r"[^，。！]{0,2}(被埋|被压住|被压在)"), hazard=True,  # a collapse: "有人被埋在下面"
        # a car, a wheel or a phone that went into a pothole is nobody trapped ("开车一下掉进坑里，轮胎报废")
        unless=_re(r"(车|轮|手机|钱包|钥匙|东西|狗|猫|宠物)[^，。！]{0,4}掉(进|到|入|下)")),
    # Someone in the water: 119 does the water rescue (120 is called alongside); 落水管 is a downpipe,
    # 防溺水 a safety campaign, and a phone that fell into the river is nobody's emergency.
    EmergencyRule("119", "溺水", _re(
        r"(?<!防)(?<!差点)(?<!险些)(?<!差一点)溺水|落水(?!管|口|槽|斗)|掉(进|到|入|下)[^，。！]{0,6}(河|江|湖|海|水库|水塘|池塘|鱼塘|泳池|游泳池|水池|水里|水中)"
        r"|(跌|摔|滑|跳)(进|到|入|下)[^，。！]{0,4}(河|江|湖|海|水库|池塘|水里)"
        r"|被(水|浪|河水|江水|洪水|海浪|大水)[^，。！]{0,2}(冲走|卷走|冲跑)"
        r"|(水里|河里|江里|湖里|海里|水库里|池塘里|河中间|江中间)[^，。！]{0,6}(扑腾|挣扎|呼救|喊救命|沉下去|漂着个?人)"
        r"|(游泳|戏水|下河|下水)[^，。！]{0,6}(沉下去|没上来|没浮上来|不见了|抽筋)"),
        # the thing that fell in is an object or an animal, not someone fetching it ("孩子去捡球掉进河里")
        unless=_re(r"(?<![捡拿救追找捞])(手机|钱包|包|钥匙|证件|卡|东西|行李|球|鞋|帽子|眼镜|垃圾|树枝|石头|狗|猫|宠物)"
                   r"(不小心|也|又)?(掉|落|滑|被[^，。！]{0,2}冲)"),
        # once everyone is out of the water, what is left is first aid (120) or nothing
        unless_text=_re(r"^(?![\s\S]*(还有[^，。！]{0,4}(人|个)|还在水里|没找到|没救上来|没捞上来))"
                        r"[\s\S]*((已经?|被|刚[刚才]?)[^，。！？]{0,4}(救|捞|拉|拖)(上来|上岸|起来)"
                        r"|(?<![没未快把])(救|捞|拉|拖)(上来|上岸|起来)了)"),
        hazard=True),
    # "电梯卡在两层楼中间，里面有老人": people inside a lift that has stopped (119 does lift rescue),
    # or inside a building that has collapsed ("房子塌了，里面还有人")
    EmergencyRule("119", "人员被困", _re(
        r"(里面|里头|轿厢里?|电梯里)[^，。！]{0,2}(有|还有|困着|关着|困了|关了)[^，。！]{0,4}" + PERSON
        + r"(?![^，。！]{0,4}(维修|修理|检修|施工))"
        r"|" + PERSON + r"[^，。！]{0,3}在(电梯里面?|里面|里头|轿厢里)"),
        context=_re(r"电梯[^，。！]{0,8}(卡住|卡在|卡了|停在|停住|停了|坏了|故障|不动|下坠|掉下|冲顶|蹲底|门打不开|开不了门)"
                    r"|塌了|倒塌|坍塌|塌方"), hazard=True),
    EmergencyRule("120", "医疗急救", _re(
        r"昏迷|晕倒|晕过去|休克|没有?呼吸|没气了|心跳(停|没)|心脏病[^，。！]{0,3}(发作|犯了)|心梗|中风了|抽搐"
        r"|突然[^，。！]{0,4}(说不出话|不能动|动不了|叫不醒|没反应|没有反应)|半边身子(不能动|动不了|没知觉)"
        r"|大出血|流了很多血|血流不止|满身是血|倒地不起|不省人事"
        r"|" + SOMEONE + r"[^，。！把的]{0,6}倒在地上|倒在地上[^，。！]{0,4}(不动|起不来|叫不醒|没反应|没有反应|没动静)"
        r"|口吐白沫|中毒|重伤|受伤|撞伤|摔伤|骨折"
        r"|要生了|羊水破了|快不行了|喘不上气|呼吸困难|喝了?(农药|毒药|百草枯|敌敌畏)|服毒|误(食|吞|服)"
        r"|吞了?[^，。！]{0,4}(药|硬币|异物|电池)|吃了很多安眠药")),
    # Fraud that has just happened or is still going on: the police can still stop the transfer (110/96110).
    # A fraud word fires only with a sign that the money has just gone or the fraudster is still at it
    # (刚转的账, 正在被骗, 对方还让我继续转); fraud long ago, scams in general, a shop that ran off with prepaid
    # cards or false advertising, and "被骗了去哪里报案" with no such sign are consultations or complaints.
    EmergencyRule("110", "正在发生的诈骗", _re(
        r"(被|遭)[^，。！？]{0,5}(骗|诈骗)|骗(了|走)[^，。！？]{0,3}(我|她|他|我们)|诈骗|骗子|上当受骗|上当了"
        r"|冒充[^，。！？]{0,6}(公安|警察|公检法|法院|检察院|客服|领导|老师|银行|医保局|社保局)|安全账户"),
        context=_re(r"刚[刚才]?[^，。！？]{0,4}(被[^，。！？]{0,3}骗|上当|转(账|了|过去|给|的账|的钱|出去)|汇(款|了|过去|的)"
                    r"|付(了|的)|充(了|值)|打(了|过去)[^，。！？]{0,4}(钱|万|元|块)?|给[^，。！？]{0,3}(转|汇|打)了?)"
                    r"|正在被骗|(还在|正在)[^，。！？]{0,6}(通话|打电话|视频|聊天|联系我|催我|让我转|转账|汇款)|电话还没挂"
                    r"|(让|要|叫|催|逼)我[^，。！？]{0,3}(继续|再|接着|马上)[^，。！？]{0,3}(转|汇|打钱|付)"
                    r"|(对方|骗子|他们?)[^，。！？]{0,4}(还|又|一直)[^，。！？]{0,2}(让|要|叫|催|逼)我[^，。！？]{0,3}(转|汇|打钱|付)"),
        unless_text=_re(r"跑路|虚假宣传|预付|办卡|会员卡|储值卡|充值卡|退不了|不退|假货|质量|缺斤少两|宰客|中介|押金|定金"
                        r"|入职|招聘|工资|保健品|骗保|骗补|骗取|没(有)?(上当|转账?|汇款?|给(他|钱)|被骗)|识破|没理")),
    EmergencyRule("110", "正在发生的违法犯罪或人身危险", _re(
        r"打架|斗殴|持刀|拿刀|拿着刀|砍人|捅人|抢劫|抢包|抢钱|抢(了|走)[^，。！]{0,4}(包|钱|手机|项链)|在打(孩子|小孩|老人|老婆|媳妇|妻子|女人|我)|绑架|劫持|撬|入室|行凶|杀人|打人|殴打|家暴"
        r"|砸车|砸店|猥亵|非礼|跳楼(?![机价])|跳河|轻生|自杀|寻短见|拐走|拐卖|抢孩子|(溜|闯)进[^，。！]{0,3}(我家|家里|家|屋|房间|院子)"
        # 偷 is theft ("小偷偷了", 偷电瓶), not 偷偷 (covertly), 偷排/偷倒 (dumping), 偷工减料, 偷换概念, 偷电 ...
        r"|小偷|(?<!偷)偷(?!排|倒|工|税|拍|运|采|挖|建|卖|偷|懒|接|漏|换|用|看|听|跑|种|养|盖|搭|占|放|埋|钓|猎|渡|水"
        r"|电(?![瓶动车缆线池]))"
        r"|被(人)?(跟踪|尾随|威胁|打)|被[^，。！]{1,5}(打|砍|捅)(了|伤|得)|威胁要|恐吓|要杀|要砍|要打死|往下跳|要跳"), needs_now=True),
    # A missing child or elderly person is urgent while not found; "走失过一次" and "防走失" are not events.
    EmergencyRule("110", "老人或儿童走失", _re(
        VULNERABLE + r"[^，。！的]{0,8}(?<!防)(走失|走丢|失踪|不见了|丢了|找不到了?)(?!过)|(?<!防)(走失|走丢|失踪)(?!过)"
        r"|" + VULNERABLE + r"[^，。！的]{0,8}(一直|还|到现在|至今)(都)?没(有)?(回家|回来)|人[就突然]{0,2}不见了"
        r"|(到现在|一直)(还|都)?(没|未)(有)?(回家|回来)(?!过)"),
        context=_re(VULNERABLE), unless=_re(r"手机|钱包|包|钥匙|证|卡|车|狗|猫|宠物|东西|行李|快递|文件|钱"), hazard=True),
)

# A clause with one of these words talks about a hazard, a service or a dispute, not an event happening now.
# Asking how to report (怎么报警, 怎么报案) is no such word: "家里着火了怎么报警" is a fire now; asking what one
# would do (如果遇到火灾应该怎么报警) is a question.
NOT_EVENT_RE = _re(
    r"如果|假如|假设|遇到[^，。！]{0,8}(怎么|应该|该)|"
    r"隐患|通道|消防栓|灭火器|消防设施|检查|演练|演习|宣传|培训|费|缴|价格|赔偿|报销|理赔|认定|鉴定|保险|改造|通知|安装"
    r"|整改|风险|政策|办理|手续|证明|咨询|电话是多少|怎么(申请|办|报(?!警|案))|预防|防范|知识|讲座|像[^，。！]{0,6}一样|似的|电影|游戏|新闻|小说|比喻|形容|烟花|爆竹|烧烤|烟头"
    r"|遭了|遭受|遭遇了|受灾|灾后|炒菜|做饭|不着火|打不着|点不着|打着火|点火|烟囱|油烟|吸烟|抽烟|香烟|扬尘|医保|报警器|监控|快递|外卖|投诉|处罚|罚款|不作为|态度|出警慢|来得慢|没人管"
    # figures of speech and fixed expressions: 犹如爆炸, 一棒子打死, 道德绑架, 跳楼价
    r"|如同|仿佛|犹如|宛如|好比|堪比|简直|一棒子|一竿子|道德绑架|跳楼价|跳楼甩卖|小偷小摸|打水漂"
    # an event discussed, not reported: news, lessons, cases elsewhere (天津大爆炸的阴霾, 火灾的教训)
    r"|报道|事件|惨案|惨剧|悲剧|教训|案例|阴霾|前车之鉴|警示|敲响警钟|告诉(大家|我们)|想必|众所周知|大家都知道|猛于虎"
    r"|全国各地|各地|国内外|国外|外地|外省|其他城市"
    # a patient already in hospital, an injury in an insurance, work-injury or exam-exemption matter
    r"|住院|工伤|免考|免试|医药费|治疗费|医疗费|救助|补助|伤残|误工")
PAST_RE = liveness.PAST_RE
NOW_RE = liveness.NOW_RE
# Weaker signs that a crime is going on; they do not outweigh a past-time word or a complaint.
ONGOING_RE = _re(r"有人[^，。！]{0,6}(抢|偷|打|砍|撬|闹|砸|跳|持刀|拿刀|拿着刀|追)"
                 r"|在(门口|楼下|楼上|家里|街上|路上|屋里|小区里?)[^，。！]{0,3}(打|砍|偷|抢|撬|闹|追|砸|堵|拦)"
                 r"|在[^，。！]{1,8}(打架|斗殴|打人|砍人|抢劫|打我)"
                 r"|(正)?在(打|砍|追|抢)(我|人|他|她|孩子)"
                 r"|往[^，。！]{0,8}(跑|逃)|跑了|逃跑|要(往下)?跳|站在[^，。！]{0,6}(天台|楼顶|窗台|桥)")
# Asking whether hearsay is true is not a report; only an explicit call for help outweighs it.
RUMOUR_RE = _re(r"是真的吗|是不是真的|真的假的|是真是假|是谣言吗|是不是谣言|属实吗|是否属实|有没有这回事|有这回事吗|辟谣"
                r"|(听说|网传|网上[^，。！]{0,4}(传|说)|传言|传闻|据说|[圈群]里[^，。！]{0,4}传)[^。！？?]*[吗？?]"
                r"|有待(查证|核实|证实)|未经(证实|核实)|未见官方")
URGENT_RE = liveness.URGENT_RE
# The clause only fears or warns of the event ("怕着火", "万一煤气泄漏", "有爆炸的危险"), or imagines it without
# 如果 ("要等发生火灾了才重视", "出了火灾再查就晚了", "一旦起火无处逃生"): a hazard, not an event.
FEAR_BEFORE_RE = _re(r"(?<!可)怕|担心|担忧|生怕|万一|以防|防止|避免|容易|一旦|会不会|可能(会|引发|引起|导致|造成)"
                     r"|要等|等到|难道|非要|要是|倘若|若是|迟早|早晚|随时|差点|险些|差一点|以免|免得|杜绝|不要等")
RISK_AFTER_RE = _re(r"的?(危险|风险|隐患)|的(时候|可能|后果|教训)|的?(事故|问题|情况|事件|现象|案件|案子|险情)|什么的|都有可能"
                    r"|[^，。！？]{0,10}((?<!刚)才|再)[^，。！？]{0,8}(晚|来不及|重视|管|处理|查|后悔|解决|整改)"
                    r"|[^，。！？]{0,10}(就晚了|后果不堪|不堪设想|无处逃生|无法逃生|难以逃生|怎么逃|谁(来)?负责|谁担责)")
# Later in the same sentence, a consequence that only a feared event has ("…，后果不堪设想", "…，谁来负责").
HYPO_SENTENCE_RE = _re(r"就晚了|不堪设想|无处逃生|无法逃生|难以逃生|谁(来)?(负责|担责|承担)|(隐患|风险)")
# Later in the sentence the event becomes the topic of something else: "…发生大火，竟成逼迁的借口".
DISCUSSED_AFTER_RE = _re(r"(成了|成为|竟成|作为|当作|当成|变成)[^，。！？]{0,16}(借口|理由|幌子|由头|把柄)")
# Something that keeps happening, not one event now.
HABIT_RE = _re(r"经常|总是|老是|每天|每晚|天天|常常|多次|时常|时有发生|频繁|频频|屡屡|一再|随意|随便|肆意|横行|猖獗|猖狂"
               r"|24小时|一天到晚|整天|长期|常年|不时|大多数|大部分|普遍|有时|有时候|偶尔|频发|高发|多发|屡次|数次|接二连三"
               r"|好几[个次起家]|近来|近年|近期|近几[年月天]|[两三四五六七八九十几数多]+[次起](?![日号])|\d+\s*[-~至到]?\s*\d*\s*次|以来|\d+年来"
               r"|不是[^，。！？]{0,10}就是|只要[^，。！？]{0,10}就|一到[^，。！？]{0,6}就")  # 不是这家被偷就是那家被撬, 只要下雨就…
COMPLAINT_RE = _re(r"处理|不公|赔偿|追责|说法|投诉|要求|调查结果|希望|建议|加强|" + HABIT_RE.pattern)

# Smoke without flames, in a text about emissions or a nuisance, is pollution (楼顶冒烟影响居民), not a fire.
SMOKE_ONLY_RE = _re(r"^(浓烟|冒烟|(全|都)是烟)$")
FLAME_RE = _re(r"着火|起火|失火|火灾|火苗|火势|大火|明火|火光|冒火|烧(起来|着|焦)|燃(起来|烧)|爆炸|炸了")
POLLUTION_RE = _re(r"污染|排放|排烟|烟道|烟囱|扰民|影响[^，。！]{0,6}(居民|生活|健康|休息|周边)|开窗|异味|刺鼻|熏|呛"
                   r"|空气|环保|油烟|锅炉|焚烧|烧垃圾|秸秆|工厂|厂房|厂区|" + HABIT_RE.pattern)
# A patient already in hospital or an injury in a claim: not a call for an ambulance (whole text).
MEDICAL_CONTEXT_RE = _re(r"住院|在[^，。！]{0,6}医院|医院[^，。！]{0,6}(抢救|治疗|救治|住|病房)|ICU|重症监护|出院|病危通知"
                         r"|医药费|治疗费|医疗费|手术费|报销|工伤|免考|免试|体育考试|体测|救助|补助|理赔|保险|赔偿|赔付"
                         r"|伤残|鉴定|评定|残疾|伤情|病历|复查|治疗|误工|后遗症|康复"
                         # a chronic complaint about a nuisance: 灰尘导致呼吸困难, 熏得人快要晕过去
                         r"|污染|灰尘|粉尘|扬尘|噪音|噪声|异味|臭味|扰民|油烟|废气|焚烧|刺鼻|去医院看")
# A crime word inside a dispute with a gang, a developer, a property firm, a village committee or the authorities is a
# complaint about the dispute, unless the caller asks for help now in the same sentence.
DISPUTE_RE = _re(r"黑恶|涉黑|黑社会|恶势力|团伙|物业|开发商|拆迁|强拆|征收|征地|村干部|村委|村霸|村支书|城管|执法"
                 r"|立案|派出所|上访|维权|业主|债主|讨薪|工资|举报|进行")  # 对举报者进行恐吓: written register
# Words of a complaint about the authorities, never said while reporting an emergency (sentence-level).
COMPLAINT_SENTENCE_RE = _re(r"不作为|推诿|踢皮球|不管不问|无人处理|无人问津|贪官|腐败|渎职|失职|敷衍|往下推")
# The caller wants the event prevented or says it nearly happened: 别让…受伤, 以免…, 差点…
PREVENT_BEFORE_RE = _re(r"别让|不要让|不能让|不让|以免|免得|避免|防止|以防|预防|杜绝|差点|险些|差一点")
# A hypothesis opened earlier in the sentence covers the clauses after it: "一旦失火，火灾，垮塌，爆炸都有可能".
HYPO_OPEN_RE = _re(r"如果|假如|假设|万一|一旦|一但|倘若|若是|如若|要是|(?<!不)若(?=[有是发出遇])|等到|非要等|要等到")
# Ends just before the trigger: 头都要炸了, 听了都冒火了, 心里冒火 are feelings, not events.
FEELING_BEFORE_RE = _re(r"(头|脑袋|脑子|心|肺|肚子|听了|看了|心里|心头|气得|一肚子)都?(要|快|快要)?$")
# A figure of speech just before the trigger: 就像…爆炸, 熏得人快要晕过去, 吵得…
FIGURE_BEFORE_RE = _re(r"(?<![好图影录肖想偶])像|(熏|吵|呛|臭|吓|气|烦|逼|折磨|震|闹)得")
# The trigger followed by 过 is an experience in the past (着过火, 被打过), not 过程/过来/过去; followed by 之后 it
# starts a story (钱包被偷之后，无从查案).
PAST_AFTER_RE = _re(r"过(?![程来去后度于分道年节滤问渡失往路目境])|之后|以后")


class EmergencyDetector:
    """Rule-based detector; ``detect`` returns ``{"number", "reason", "evidence"}`` or None.

    Liveness is decided next to the trigger (see :mod:`routing.liveness`): the time of the trigger's clause (its own
    cue, else the nearest cue in its sentence); in a message longer than ``LETTER_CHARS`` (a letter, not a live
    report) the trigger's clause must itself say the event is going on now, or its sentence must call for help.
    """

    def __init__(self, rules: tuple[EmergencyRule, ...] = RULES) -> None:
        self.rules = rules

    def detect(self, text: str) -> dict | None:
        text = text or ""
        if not URGENT_RE.search(text):  # drop the sentences that only ask whether hearsay is true
            text = "".join(s for s in liveness.sentences(text) if not RUMOUR_RE.search(s))
        letter = len(text) > liveness.LETTER_CHARS
        now_in_text = bool(NOW_RE.search(text))
        past_in_text = bool(PAST_RE.search(text))
        complaint = bool(COMPLAINT_RE.search(text))
        all_clauses = liveness.clauses(text)
        by_sentence: dict[int, list[liveness.Clause]] = {}
        for c in all_clauses:
            by_sentence.setdefault(c.sentence, []).append(c)
        live = [c for c in all_clauses if _is_live(c.text)]
        for cl in live:
            clause = cl.text
            sent_clauses = by_sentence[cl.sentence]
            sentence = "".join(c.text for c in sent_clauses)
            after = "".join(c.text for c in sent_clauses[cl.index + 1:])
            when = liveness.local_time(cl, sent_clauses)
            if when == "past":
                continue
            urgent = bool(URGENT_RE.search(sentence))
            anchored = liveness.letter_anchored(cl, sent_clauses)
            if letter and not anchored:  # a letter narrates; only an explicit "now" here makes it an alarm
                continue
            if COMPLAINT_SENTENCE_RE.search(sentence) and not urgent:
                continue
            if not urgent and any(HYPO_OPEN_RE.search(c.text) for c in sent_clauses[:cl.index]):
                continue  # inside a hypothesis opened earlier in the sentence
            if when is None and past_in_text and not now_in_text:
                continue
            for rule in self.rules:
                m = next((m for m in rule.trigger.finditer(clause) if _trigger_ok(rule, clause, m, after, urgent)), None)
                if not m or (rule.unless and rule.unless.search(clause)):
                    continue
                if rule.unless_text and rule.unless_text.search(text):
                    continue
                if rule.context and not any(rule.context.search(c.text) for c in live):
                    continue
                if rule.reason == "火灾" and SMOKE_ONLY_RE.match(m.group(0)) and not FLAME_RE.search(text) \
                        and POLLUTION_RE.search(text):
                    continue  # smoke from a chimney or a roof all day long is pollution
                if rule.number == "120" and MEDICAL_CONTEXT_RE.search(text):
                    continue  # already in hospital, or an injury in a claim
                if rule.needs_now:
                    if DISPUTE_RE.search(sentence) and not (anchored or urgent):
                        continue
                    if when != "now":
                        ongoing = ONGOING_RE.search(sentence)
                        if not ongoing or past_in_text or complaint:
                            continue
                return {"number": rule.number, "reason": rule.reason, "evidence": m.group(0)}
        return None


def _trigger_ok(rule: EmergencyRule, clause: str, m: re.Match, after: str, urgent: bool) -> bool:
    """The match is a whole word, reported rather than feared, imagined, compared or told as past experience."""
    if not liveness.is_whole_word(clause, m.start(), m.end()):
        return False
    if FIGURE_BEFORE_RE.search(clause, 0, m.start()) or PREVENT_BEFORE_RE.search(clause, 0, m.start()):
        return False
    if FEELING_BEFORE_RE.search(clause[:m.start()]):
        return False
    if PAST_AFTER_RE.match(clause, m.end()):
        return False
    if rule.hazard and (_feared(clause, m) or (not urgent and HYPO_SENTENCE_RE.search(after))):
        return False
    if DISCUSSED_AFTER_RE.search(clause, m.end()) or DISCUSSED_AFTER_RE.search(after):
        return False
    return True


def _feared(clause: str, m: re.Match) -> bool:
    """The trigger only says what the caller is afraid of: "怕着火", "担心燃气泄漏", "有爆炸的危险"."""
    return bool(FEAR_BEFORE_RE.search(clause, 0, m.start()) or RISK_AFTER_RE.match(clause, m.end()))


def _is_live(clause: str) -> bool:
    """A clause that may describe an event now: not a hazard/fee/complaint, not a habit, not only the past."""
    if not clause or NOT_EVENT_RE.search(clause):
        return False
    now_here = bool(NOW_RE.search(clause))
    if HABIT_RE.search(clause) and not liveness.STRONG_NOW_RE.search(clause):  # "电梯经常困人" is a complaint
        return False
    return not (PAST_RE.search(clause) and not now_here)
