"""Ticket lifecycle: states, actions and the explicit transition table.

A transition is looked up by ``(state, action)``; anything not in the table is
an illegal move and raises :class:`IllegalTransition`. Each action also names
the roles allowed to perform it.
"""

from __future__ import annotations

from dataclasses import dataclass

REQUEST_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
DEFAULT_REQUEST_TYPE = "求助"  # when neither the citizen, the agent nor the router says
SATISFACTION = ("满意", "基本满意", "不满意")
# What a citizen may answer a callback with: the digit offered ("回复 1 满意 …") or the word itself.
SATISFACTION_ANSWERS = {"1": "满意", "2": "基本满意", "3": "不满意", **{s: s for s in SATISFACTION}}
EMERGENCY_NUMBERS = ("110", "119", "120")

# The seven standard reasons a request is outside 12345's acceptance scope.
REJECT_REASONS = {
    "not_competent": "不属于本市政府职能范围",
    "against_law": "违反法律法规或已公开政策",
    "special_organs": "涉及党委、人大、政协、法院、检察院、军队事务",
    "in_litigation": "已进入诉讼、仲裁、行政复议等法定程序",
    "secret_privacy": "涉及国家秘密、商业秘密或个人隐私",
    "handled_nothing_new": "已办结且无新情况、新理由",
    "no_substance": "无实质内容",
}

STATE_LABELS = {
    "new": "新建",
    "accepted": "待派单",
    "rejected": "不予受理",
    "answered": "直接答复办结",
    "emergency": "已转紧急热线",
    "dispatched": "已派单",
    "signed": "已签收",
    "replied": "已答复",
    "callback_done": "已回访",
    "closed": "已办结",
    "merged": "已合并",
}

OPEN_STATES = frozenset({"new", "accepted", "dispatched", "signed", "replied", "callback_done"})
FINAL_STATES = frozenset({"rejected", "answered", "emergency", "closed", "merged"})

AGENTS = frozenset({"agent", "dispatcher", "admin"})
DISPATCHERS = frozenset({"agent", "dispatcher", "admin"})
SUPERVISORS = frozenset({"dispatcher", "leader", "admin", "system"})
UNIT = frozenset({"unit"})
CALLBACK = frozenset({"agent", "dispatcher", "admin", "system", "citizen"})


@dataclass(frozen=True)
class Move:
    to: str | None  # None: the state does not change (urge, extension requests)
    roles: frozenset[str]


TRANSITIONS: dict[tuple[str, str], Move] = {
    ("new", "accept"): Move("accepted", AGENTS | {"system"}),
    ("new", "reject"): Move("rejected", AGENTS),
    ("new", "answer"): Move("answered", AGENTS),
    ("new", "transfer_emergency"): Move("emergency", AGENTS),
    ("new", "dispatch"): Move("dispatched", DISPATCHERS | {"system"}),
    ("accepted", "dispatch"): Move("dispatched", DISPATCHERS | {"system"}),
    ("accepted", "answer"): Move("answered", AGENTS),
    ("accepted", "transfer_emergency"): Move("emergency", AGENTS),
    ("dispatched", "sign"): Move("signed", UNIT),
    ("dispatched", "return"): Move("accepted", UNIT),
    # the dispatcher takes back a wrong dispatch before the unit signs for it (改派: recall, then dispatch)
    ("dispatched", "recall"): Move("accepted", DISPATCHERS),
    ("signed", "return"): Move("accepted", UNIT),
    ("signed", "reply"): Move("replied", UNIT),
    ("signed", "request_extension"): Move(None, UNIT),
    ("signed", "approve_extension"): Move(None, frozenset({"dispatcher", "admin"})),
    ("signed", "deny_extension"): Move(None, frozenset({"dispatcher", "admin"})),
    ("replied", "callback"): Move("callback_done", CALLBACK),
    ("callback_done", "close"): Move("closed", AGENTS | {"system"}),
    # the citizen could not be reached for the callback (all attempts used): closed without a satisfaction
    ("replied", "close"): Move("closed", AGENTS | {"system"}),
    ("callback_done", "reopen"): Move("dispatched", AGENTS | {"system"}),
    ("closed", "reopen"): Move("dispatched", AGENTS | {"system"}),
}
# Urging (督办) is allowed at any open stage a unit holds the ticket (in the dispatch queue nobody is to urge).
for _state in OPEN_STATES - {"new", "accepted"}:
    TRANSITIONS[(_state, "urge")] = Move(None, SUPERVISORS)
# Merging into another ticket is allowed from any open stage.
for _state in OPEN_STATES:
    TRANSITIONS[(_state, "merge")] = Move("merged", AGENTS)
# Rating a ticket answered directly or closed (the citizen's own rating), once: a satisfaction already
# recorded (by the callback or an earlier rating) is not replaced (hotline.actions.rate).
for _state in ("answered", "closed"):
    TRANSITIONS[(_state, "rate")] = Move(None, CALLBACK)

ACTIONS = frozenset(action for _, action in TRANSITIONS)

ACTION_LABELS = {
    "accept": "受理", "reject": "不予受理", "answer": "直接答复", "transfer_emergency": "转紧急热线",
    "dispatch": "派单", "sign": "签收", "return": "退单", "reply": "答复", "request_extension": "申请延期",
    "approve_extension": "批准延期", "deny_extension": "驳回延期", "urge": "督办", "callback": "回访",
    "close": "办结", "reopen": "重办", "merge": "合并", "rate": "评价", "create": "创建", "recall": "撤回派单",
    "import": "历史导入",  # hotline tickets import: an event only, no transition (not in ACTIONS)
}


class TransitionError(Exception):
    status = 409
    code = "illegal_transition"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IllegalTransition(TransitionError):
    pass


class Forbidden(TransitionError):
    status = 403
    code = "forbidden"


def find_move(state: str, action: str, role: str) -> Move:
    """The move for ``action`` from ``state`` by ``role``, or a clear error."""
    if action not in ACTIONS:
        raise IllegalTransition(f"未知操作：{action}")
    move = TRANSITIONS.get((state, action))
    if move is None:
        # only what the caller may do from here: a unit is not told of the dispatcher's moves
        allowed = sorted(a for (s, a), m in TRANSITIONS.items() if s == state and role in m.roles)
        raise IllegalTransition(
            f"工单当前状态为「{STATE_LABELS.get(state, state)}」，不能执行「{ACTION_LABELS.get(action, action)}」"
            f"（可执行：{'、'.join(ACTION_LABELS.get(a, a) for a in allowed) or '无'}）"
        )
    if role not in move.roles:
        from hotline.users import ROLE_LABELS

        raise Forbidden(f"{ROLE_LABELS.get(role, role)}无权执行「{ACTION_LABELS.get(action, action)}」")
    return move
