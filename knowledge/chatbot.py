"""The citizen chatbot (WeChat, web, Telegram): answer from published articles, or collect a ticket.

One call per citizen message: ``await chatbot.respond(message) -> BotReply``.

* A question is searched among published articles. When the best article
  matches the question well (:mod:`knowledge.confidence`) it is answered with the
  source article (an FAQ article with the one question-answer pair asked about,
  :mod:`knowledge.faq_answer`), the article's owning unit (承办单位) and a "did this help?"
  prompt; when it is close, the bot offers up to three articles to choose from (two of the
  same title told apart by their unit, else their id); otherwise it offers to submit
  a request. A title is quoted in 《》 by :func:`knowledge.chat_words.book_title` (never doubled).
  The decision is made on what would be shown. An FAQ pair must pass the checks itself, or the bot asks
  which of the article's questions is meant. A question naming another province or city than a local
  article's gets the offer. A question that qualifies the article's topic with a word the article lacks
  (城乡居民养老保险 against 城乡居民医保) is offered the article as a choice.
* Submitting collects what a ticket needs — what, where, contact — in a short
  dialogue whose state is kept per user (:mod:`knowledge.dialogue`: Redis when
  configured, else the database), then creates the
  ticket through the core's ``service.ingest`` and gives its number (:mod:`knowledge.collect`). A
  precise place, or the citizen's own phone number, already named in the problem is not asked for again.
* The bot's own questions take the answers people give: 是/对 or 第二个 to a choice, 不是 to
  keep the question for a request; a question of a word or two (医保) is no problem
  description, so the dialogue asks for one. A place or a phone number given early is kept.
  Only articles within their validity dates answer.
* A ticket number asks for progress (only the citizen's own tickets; once answered, with the unit's
  latest reply); "查询进度" (进度怎么样了, 有结果了吗 …) with no number lists the citizen's latest tickets.
  The owner rates an answered ticket (满意/基本满意/不满意, with its number or right after its progress)
  as the callback does: 不满意 on a replied ticket reopens it with the citizen's words as the reason.
* A complaint stated without a question (楼下工地夜间施工噪音扰民，望处理; :mod:`knowledge.complaint`) gets the
  offer to submit first, then the answer or the choices as usual: "提交" files it, the complaint its content.
* Greetings and thanks get a greeting; commands with nothing to act on (取消, 对, a bare
  number such as 12345) get a short help; none of these is searched or a knowledge gap.
* Every question is logged; unanswered and unhelpful ones are knowledge gaps
  (:mod:`knowledge.gaps`).

One user's messages are handled one at a time (a per-user lock in the process, and
with the Redis store also a Redis lock across processes), so two quick messages
cannot both complete the dialogue and create two tickets.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.actions import InvalidParams
from hotline.citizens import holds_identity, tickets_written_by
from hotline.lifecycle import OPEN_STATES, SATISFACTION, TransitionError
from hotline.messages import InboundMessage
from hotline.tables import units
from hotline.users import Actor
from knowledge.chat_text import TICKET_NUMBER, find, typed_whole
from knowledge.chat_words import (CANCEL_WORDS, COMPLAINT_LEADS, CONFIRM_WORDS, DENY_WORDS,
                                  FEEDBACK_YES, GREETING, GREETINGS, HELP, HELPFUL, MIN_PROBLEM_CHARS, ORDINALS,
                                  PROGRESS_CHARS, PROGRESS_WORDS, SUBMIT_WORDS, THANKS, UNHELPFUL, BotReply, bare_of,
                                  book_title, only_phone, option_labels, asks, satisfaction_in, strip_greeting)
from knowledge.collect import ASK, RequestCollector, ask_for, ask_router, title_of
from knowledge.complaint import is_complaint
from knowledge.confidence import MatchScorer
from knowledge.dialogue import DialogueBusy, DialogueStore
from knowledge.faq_answer import FaqPair, candidate_pairs, choose_pair, faq_pairs, single_pair
from knowledge.places import PROVINCES
from knowledge.search.base import SearchFilters
from knowledge.tables import kb_articles, kb_chat_log

__all__ = ["ASK", "BotReply", "Chatbot", "strip_greeting", "user_key"]

log = logging.getLogger(__name__)

RECENT_TICKETS = 3
RECENT_SCAN = 50  # the citizen record's latest tickets looked at for the ones this sender wrote

ANSWER_AT = 0.6   # confidence needed to answer directly (knowledge.confidence.Match) ...
TOPIC_AT = 0.2    # ... with at least this share of the article's title and keywords named in the question
MISSING_AT = 0.25  # ... and no word the article lacks holding this share of the question's information
CLARIFY_AT = 0.3  # relevance needed to offer an article as a choice
LEAD_AT = 0.7    # no hit relevant enough, but one far ahead of the others (lead) ...
WEAK_AT = 0.15   # ... and this relevant: asked about as a yes/no question rather than nothing
PAIR_AT = 0.5    # an FAQ pair answers only when it (or the article's title) holds this share of the question ...
WHOLE_AT = 0.8   # ... and an FAQ asked about as a whole (no one pair) only when this much of the question is in its
                 # title and keywords (电动自行车上牌常见问题)
PLACE_SCAN = 1500  # characters of an article read for the places it is about
SEARCH_TIMEOUT = 2.0  # seconds; WeChat waits 5 s for the whole reply
ANSWER_CHARS = 600  # an answer longer than this is cut, ending in 「……」
REPLY_CHARS = 300  # the unit's reply shown with the progress of a replied or closed ticket, cut to this
RATABLE = ("replied", "answered", "closed")  # states whose result the citizen may rate (once)
RATE_PROMPT = "对办理结果是否满意？请回复“满意”“基本满意”或“不满意”（可附上原因）。"



def user_key(message: InboundMessage) -> str:
    return f"{message.channel}:{message.sender.kind}:{message.sender.value}"


class Chatbot(RequestCollector):
    def __init__(self, *, engine: AsyncEngine, index, service, store: DialogueStore, clock,
                 answer_at: float = ANSWER_AT, clarify_at: float = CLARIFY_AT,
                 locate: Callable[[str], dict | None] | None = None,
                 emergency: Callable[[str], dict | None] | None = None,
                 request_type: Callable[[str], tuple[str, float] | None] | None = None) -> None:
        """``locate(text)`` finds the area a text names (the router's gazetteer ``extract``): a request
        that already says where is not asked for the place again. ``emergency(text)`` (the router's
        emergency detector) returns ``{"number", "reason", ...}`` for a fire, a crime in progress or a
        medical emergency: the citizen is told to call that number at once. ``request_type(text)`` (the
        router's model) gives (type, confidence): a consultation is not asked where it happened."""
        self.engine, self.index, self.service, self.store, self.clock = engine, index, service, store, clock
        self.locate, self.emergency, self.request_type = locate, emergency, request_type
        self.answer_at, self.clarify_at = answer_at, clarify_at
        self._locks: dict[str, list] = {}  # user key -> [asyncio.Lock, messages waiting or running]

    async def respond(self, message: InboundMessage) -> BotReply:
        key = user_key(message)
        try:
            async with self._serialised(key):
                return await self._respond(message, key)
        except DialogueBusy:
            return BotReply("您的上一条消息还在处理中，请稍后再发送。", "busy")

    async def _respond(self, message: InboundMessage, key: str) -> BotReply:
        state = await self.store.load(key) or {}
        if state.get("last_in") == message.external_id and state.get("last_reply"):
            return BotReply(**state["last_reply"])  # the channel redelivered the same message
        reply, state = await self._step(message, key, state, (message.text or "").strip())
        state["last_in"] = message.external_id
        state["last_reply"] = reply.as_json()
        await self.store.save(key, state)
        return reply

    @contextlib.asynccontextmanager
    async def _serialised(self, key: str):
        """One message per user at a time: in this process, and across processes when the store can lock."""
        entry = self._locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                store_lock = getattr(self.store, "lock", None)
                if store_lock is None:
                    yield
                else:
                    async with store_lock(key):
                        yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]

    async def _step(self, message: InboundMessage, key: str, state: dict, text: str) -> tuple[BotReply, dict]:
        stage = state.get("stage")
        bare = bare_of(text)
        if bare in CANCEL_WORDS and stage in ("collect", "choose", "offer", "feedback"):
            return BotReply("好的，已取消。有其他问题可以随时问我。", "cancel"), {}
        if bare in CANCEL_WORDS:  # nothing to cancel: no question for the knowledge base either
            return BotReply("好的。有其他问题可以随时问我。", "cancel"), {}
        if stage == "collect":
            number = find(TICKET_NUMBER, text)
            if number and set(bare.replace(number, "")) <= set("查询看工单进度编号"):
                # a progress query in the middle of the dialogue: answer it, then go on collecting
                progress = await self._progress(message, number, offer_rating=False)
                ask = ask_for(state.get("fields") or {})
                return BotReply(f"{progress.text}\n{ask}", "progress", ticket_number=number), state
            if bare in PROGRESS_WORDS:  # "查询进度" is no answer either: list the tickets, then ask again
                mine = await self._my_tickets(message)
                ask = ask_for(state.get("fields") or {})
                return BotReply(f"{mine.text}\n{ask}", "progress", ticket_number=mine.ticket_number), state
            if bare in SUBMIT_WORDS:  # "提交" again is no answer to the question asked: ask it again
                return await self._start_collect(message, key, state.get("fields") or {})
            return await self._collect(message, key, state, text)
        if not bare:  # an empty message, a sticker or only punctuation: the dialogue goes on
            return BotReply("您好，请直接输入您想咨询的问题，或回复“提交”反映诉求。", "offer"), state
        if bare in GREETINGS:  # no question for the knowledge base, nor a gap; the dialogue goes on
            return BotReply(GREETING, "greeting"), state
        if bare in THANKS:
            return BotReply("不客气！还有其他问题可以随时问我。", "greeting"), state
        if stage == "rate" and (satisfaction := satisfaction_in(text)) and not find(TICKET_NUMBER, text) \
                and not asks(text) and len(bare) <= 60:
            # 不满意 (井盖还是松的) right after the progress of the citizen's own replied ticket: its rating
            rated = await self._rate(message, state["ticket_number"], satisfaction, text)
            if rated is not None:
                return rated, {}
        if stage == "feedback" and (bare in HELPFUL or bare in UNHELPFUL or bare in FEEDBACK_YES
                                    or bare in DENY_WORDS):
            helpful = bare in HELPFUL or bare in FEEDBACK_YES
            await self._log_update(state["log_id"], helpful=helpful)
            if helpful:
                return BotReply("感谢您的反馈！", "feedback"), {}
            return self._offer_submit(state.get("question", ""), "抱歉没能帮到您。", seen=state.get("article"),
                                      earlier=state.get("earlier"))
        if stage == "choose":
            options = state.get("options", [])
            chosen = int(bare) if bare.isdigit() and len(bare) <= 2 else ORDINALS.get(bare)
            if chosen is None and bare in CONFIRM_WORDS:  # "是" to "您想了解的是不是《…》？"
                if len(options) != 1:
                    return BotReply(_pick(len(options)), "clarify"), state
                chosen = 1
            if chosen is None and re.fullmatch(r"第[一二三四五六七八九十\d]+[个条项]?", bare):  # 第四个 of three
                return BotReply(_pick(len(options)), "clarify"), state
            if chosen is not None:
                if not 1 <= chosen <= len(options):
                    return BotReply(_pick(len(options)), "clarify"), state
                pair = (state.get("pairs") or [None] * len(options))[chosen - 1]
                reply, answered = await self._answer(key, message.channel, state.get("question", ""),
                                                     options[chosen - 1], 1.0, pair=pair)
                return reply, _with_earlier(answered, state.get("earlier"))
            if bare in DENY_WORDS:  # none of these: the question stays what the request is about
                return self._offer_submit(state.get("question", ""), "抱歉没能找到您要的内容。",
                                          earlier=state.get("earlier"))
        if stage == "offer" and (bare in CONFIRM_WORDS or bare == "需要" or bare in SUBMIT_WORDS):
            return await self._start_collect(message, key, {"what": state.get("question") or None,
                                                            "seen": state.get("seen"),
                                                            "earlier": state.get("earlier")})
        if stage == "offer" and bare in DENY_WORDS:
            return BotReply("好的。有其他问题可以随时问我。", "cancel"), {}
        if stage in ("choose", "feedback") and bare in SUBMIT_WORDS:  # what was asked is the problem
            return await self._start_collect(message, key, {"what": state.get("question") or None,
                                                            "seen": state.get("article"),
                                                            "earlier": state.get("earlier")})
        number = find(TICKET_NUMBER, text)
        if number and not typed_whole(TICKET_NUMBER, text) and not await self._owns(message, number):
            number = None  # digit groups that only join into a number ("2024-05-06 12345打过电话"): no ticket
        if number and (satisfaction := satisfaction_in(text)):
            # "2026120800007 答复我不满意，井盖还是松的": the owner rates the result of a replied ticket
            rated = await self._rate(message, number, satisfaction, text)
            if rated is not None:
                return rated, {}
        if number:
            progress = await self._progress(message, number)
            if len(set(bare.replace(number, "")) - set(PROGRESS_CHARS)) < MIN_PROBLEM_CHARS:
                # after a result that may be rated, 满意/不满意 is the rating of this ticket
                return progress, ({"stage": "rate", "ticket_number": number} if RATE_PROMPT in progress.text
                                  else {})
            return await self._follow_up(message, number, text, progress)
        phone = only_phone(text)
        if phone and stage == "done" and phone == state.get("contact"):  # the last answer, sent twice
            return BotReply(f"您的诉求已提交，工单编号：{state['ticket_number']}。发送该编号可随时查询办理进度。",
                            "ticket", ticket_number=state["ticket_number"]), state
        if phone:
            # Only a phone number: the answer to "请留下您的联系电话" after the dialogue expired, or a citizen
            # going straight to a request after the bot offered one. It is no question for the knowledge
            # base; keep it (and the question the offer was about) and ask for what is missing.
            question = state.get("question") if stage in ("offer", "choose") else None
            earlier = state.get("earlier") if stage in ("offer", "choose") else None
            return await self._start_collect(message, key, {"what": question, "contact": phone, "earlier": earlier},
                                             lead="已记下您的联系电话。")
        if bare in SUBMIT_WORDS:
            return await self._start_collect(message, key, {})
        if bare in PROGRESS_WORDS:
            return await self._my_tickets(message), {}
        if bare in HELPFUL or bare in UNHELPFUL:  # feedback with no answer waiting for it (e.g. long after)
            return BotReply("感谢您的反馈！如需帮助，请直接输入您的问题，或回复“提交”反映诉求。", "feedback"), {}
        if bare.isdigit() or bare in CONFIRM_WORDS or bare in DENY_WORDS or bare in ORDINALS:
            # a number or a yes/no with nothing asked (12345, 1, 对): no question for the knowledge base
            return BotReply(HELP, "offer"), {}
        if stage == "done" and state.get("ticket_number") and self._place_detail(text):
            # the exact spot sent right after a request that was filed at once (its first message already
            # held the phone number and a place): it belongs to that ticket, not to the knowledge base
            appended = await self._add_place(message, state["ticket_number"])
            if appended is not None:
                return appended, {}
        earlier = [state["question"], state.get("article")] if stage == "feedback" and state.get("question") else None
        reply, state = await self._question(message, key, strip_greeting(text))
        if reply.kind in COMPLAINT_LEADS and is_complaint(text):  # a problem to act on: the offer to submit leads
            reply = dataclasses.replace(reply, text=COMPLAINT_LEADS[reply.kind] + reply.text)
        state = _with_earlier(state, earlier)  # 那租金多少钱 after an answer: the ticket says what 那 is
        urgent = self._urgent(text)
        if urgent:  # the citizen must call now; the answer (a gas leak article) or the offer follows
            reply = dataclasses.replace(reply, text=f"{urgent}\n{reply.text}")
        return reply, state

    def _urgent(self, text: str) -> str | None:
        """The warning for an emergency the text describes (火灾 → 119), or None."""
        found = ask_router(self.emergency, text, "emergency detection")
        if not found:
            return None
        return (f"您描述的情况可能十分紧急（{found['reason']}），请立即拨打 {found['number']}！"
                "本平台不能代替紧急救援。")

    # -- questions ------------------------------------------------------
    async def _question(self, message: InboundMessage, key: str, text: str) -> tuple[BotReply, dict]:
        try:
            result = await asyncio.wait_for(self.index.search(
                text, SearchFilters(kinds=("article",), status=("published",)), limit=3), SEARCH_TIMEOUT)
            hits = result.hits
        except Exception:  # search down or slow: never leave the citizen without an answer
            log.warning("chatbot search failed; offering to submit", exc_info=True)
            hits = []
        scorer = MatchScorer(self.index.tokenizer, self.index.synonyms)  # synonyms may have been edited
        articles = await self._articles(hits)
        matches = scorer.match(text, [h.score for h in hits], [a[0] for a in articles], [a[1] for a in articles])
        scored = list(zip(matches, hits))
        best = max((m.confidence for m in matches), default=0.0)
        # A single topic word (just "医保") that several articles talk about: ask which one is meant.
        ambiguous = len(scored) > 1 and scored[1][0].relevance >= self.clarify_at and len(
            scorer.topic_words(text)) <= 1
        # A direct answer also needs the question to name some of the article's title or keywords (an
        # article that only mentions the asked words in passing, a 身份证 needed to reissue a 社保卡, is
        # no answer), no weighty word of the question missing from the article, and no asked kind of
        # fact or act the article does not state (公租房租金多少钱 is not answered by who may apply for
        # 公租房, 养犬登记怎么注销 not by how to register).
        # Such articles are offered as a choice at most.
        # Nor is a question qualifying the article's topic by a word the article lacks (城乡居民养老保险 is not
        # answered by 城乡居民医保; 医院的停车费 not by 小区停车收费), nor one about another place than the
        # article's (北京市高龄津贴 by the local 高龄津贴申领).
        top = scored[0][0] if scored else None
        if top and top.confidence >= self.answer_at and top.topic >= TOPIC_AT and _passes(top) and not ambiguous:
            article_id = int(scored[0][1].ref_id)
            if self._other_place(text, articles[0][0]):
                await self._log(key, message.channel, text, "unanswered", None, best)
                return self._offer_submit(text, "暂时没有找到您所问地区的相关答案。")
            # An FAQ article answers with one of its pairs, and the checks are made again on the pair shown (an
            # article of one question and its answer too: 审批流程是什么 is not answered by 审批材料); when no
            # pair passes them, the bot asks which of the article's questions is meant (or offers the article).
            _, topic, title, body = articles[0]
            pairs = faq_pairs(title, body)
            if not pairs:
                single = single_pair(title, body)  # an article of one question and its answer
                if single is None or _shows_answer(scorer.judge_shown(text, single.text, topic, topic)):
                    return await self._answer(key, message.channel, text, article_id, top.confidence)
            else:
                pair = choose_pair(scorer, text, pairs)
                if pair is not None and _shows_answer(scorer.judge_shown(text, pair.text, topic, topic)):
                    return await self._answer(key, message.channel, text, article_id, top.confidence,
                                              pair=pair.question)
                if pair is None and scorer.share(scorer.topic_words(text), topic) >= WHOLE_AT:
                    whole = scorer.judge_shown(text, f"{title} {body[:ANSWER_CHARS]}", topic, topic)
                    if _passes(whole) and not whole.lacks_thing:
                        return await self._answer(key, message.channel, text, article_id, top.confidence, pair="")
                candidates = candidate_pairs(scorer, text, pairs)
                if candidates:
                    return await self._choose_pair(key, message.channel, text, article_id, candidates, best)
        good = [h for m, h in scored if m.relevance >= self.clarify_at]
        if not good and top and top.lead >= LEAD_AT and top.relevance >= WEAK_AT:  # 工地半夜还在干活
            good = [scored[0][1]]
        if good:
            log_id = await self._log(key, message.channel, text, "clarify", None, best)
            ids = [int(h.ref_id) for h in good]
            # the same title twice (a provincial and a city version, one per district): told apart by unit,
            # else by id
            unit_names = await self._unit_names(ids) if len(good) > 1 else {}
            labels = option_labels([(i, h.title, unit_names.get(i)) for i, h in zip(ids, good)])
            if len(good) == 1:
                prompt = f"您想了解的是不是{book_title(good[0].title)}？是请回复 1，不是请回复“提交”反映诉求。"
            else:
                lines = [f"{n}. {label}" for n, label in enumerate(labels, 1)]
                prompt = "您想了解的是以下哪一项？请回复序号：\n" + "\n".join(lines) + "\n都不是请回复“提交”反映诉求。"
            reply = BotReply(prompt, "clarify", options=[{"article_id": i, "title": h.title, "label": label}
                                                         for i, h, label in zip(ids, good, labels)])
            return reply, {"stage": "choose", "options": [int(h.ref_id) for h in good], "question": text,
                           "log_id": log_id}
        await self._log(key, message.channel, text, "unanswered", None, best)
        return self._offer_submit(text, "暂时没有找到相关答案。")

    async def _choose_pair(self, key: str, channel: str, text: str, article_id: int, pairs: list[FaqPair],
                           best: float) -> tuple[BotReply, dict]:
        """Asks which question of an FAQ article is meant, when none of its pairs surely answers ``text``."""
        log_id = await self._log(key, channel, text, "clarify", None, best)
        if len(pairs) == 1:
            prompt = f"您想了解的是不是“{pairs[0].question}”？是请回复 1，不是请回复“提交”反映诉求。"
        else:
            lines = [f"{n}. {pair.question}" for n, pair in enumerate(pairs, 1)]
            prompt = "您想了解的是以下哪一项？请回复序号：\n" + "\n".join(lines) + "\n都不是请回复“提交”反映诉求。"
        reply = BotReply(prompt, "clarify", options=[{"article_id": article_id, "title": pair.question,
                                                      "label": pair.question} for pair in pairs])
        return reply, {"stage": "choose", "options": [article_id] * len(pairs),
                       "pairs": [pair.question for pair in pairs], "question": text, "log_id": log_id}

    def _other_place(self, text: str, article: str) -> bool:
        """Whether ``text`` names a province or city (北京市) that ``article`` is not about, while the article is about
        some place (云州市): a place-specific answer for somewhere else. An article naming no place applies
        anywhere, and one naming the asked region (or a region it lies in) is about it."""
        places, tokenizer = getattr(self.index, "places", None), self.index.tokenizer
        if places is None:
            return False
        # provinces and cities named as words (中山路 is a street, not 中山市; a district is left to search)
        provinces = {name for names in PROVINCES for name in names}
        named = [word for word, _ in tokenizer.tagged(text)
                 if places.is_place(word) and (word in provinces or word.endswith("市") or places.is_place(word + "市"))]
        asked = places.query_regions(named)
        if not asked:
            return False
        article = article[:PLACE_SCAN]
        about = places.regions(tokenizer.words(article))
        if about & asked.within or any(name in article for name in asked.within):
            return False
        # a place the names table lacks (the city's own, without its gazetteer) still makes the article local
        return bool(about) or any(len(word) > 1 for word in tokenizer.tagged_words(article, ("ns",)))

    async def _articles(self, hits) -> list[tuple[str, str, str, str]]:
        """Each hit's whole text (title, highlight, body, keywords), topic (title and keywords), title and
        body, in one query; an article no longer published has none of them."""
        ids = [int(h.ref_id) for h in hits]
        if not ids:
            return []
        async with self.engine.connect() as conn:
            rows = {r.id: r for r in (await conn.execute(
                sa.select(kb_articles.c.id, kb_articles.c.title, kb_articles.c.body_text, kb_articles.c.keywords,
                          kb_articles.c.valid_from, kb_articles.c.valid_to)
                .where(kb_articles.c.id.in_(ids), kb_articles.c.status == "published"))).all()
                if self._in_force(r.valid_from, r.valid_to)}
        out = []
        for hit, article_id in zip(hits, ids):
            row = rows.get(article_id)
            topic = f"{row.title} {' '.join(row.keywords or [])}" if row else ""
            out.append((f"{hit.title} {hit.highlight} {row.body_text} {topic}", topic, row.title, row.body_text)
                       if row else ("", "", "", ""))
        return out

    async def _unit_names(self, article_ids: list[int]) -> dict[int, str]:
        """The name of each article's owning unit (articles without one are left out)."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                sa.select(kb_articles.c.id, units.c.name).join(units, units.c.id == kb_articles.c.unit_id)
                .where(kb_articles.c.id.in_(article_ids)))).all()
        return {r.id: r.name for r in rows if (r.name or "").strip()}

    def _in_force(self, valid_from: dt.datetime | None, valid_to: dt.datetime | None) -> bool:
        """A published article answers only within its validity dates (a policy not yet or no longer in
        force is no answer, even before the nightly sweep expires it)."""
        now = self.clock.now()
        return not ((valid_from and valid_from > now) or (valid_to and valid_to < now))

    async def _answer(self, key: str, channel: str, question: str, article_id: int,
                      confidence: float, pair: str | None = None) -> tuple[BotReply, dict]:
        """``pair``: the question of the FAQ pair to show ("" for the article from its start); None lets
        :func:`knowledge.faq_answer.choose_pair` pick it (an article the citizen chose)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(
                sa.select(kb_articles, units.c.name.label("unit_name"))
                .select_from(kb_articles.outerjoin(units, units.c.id == kb_articles.c.unit_id))
                .where(kb_articles.c.id == article_id))).mappings().first()
        if row is None or row["status"] != "published" or not self._in_force(row["valid_from"], row["valid_to"]):
            return self._offer_submit(question, "该条知识已下线。")
        log_id = await self._log(key, channel, question, "answered", article_id, confidence)
        body = row["body_text"]
        # An FAQ article is answered with the one question-answer pair asked about, when one clearly is.
        pairs = faq_pairs(row["title"], body)
        shown = (choose_pair(MatchScorer(self.index.tokenizer, self.index.synonyms), question, pairs) if pair is None
                 else next((p for p in pairs if p.question == pair), None))
        if shown is not None:
            body = shown.text
        if len(body) > ANSWER_CHARS:
            body = body[:ANSWER_CHARS] + "……"
        # the source, then the unit that handles the matter (its owner), then the feedback prompt
        unit = (row["unit_name"] or "").strip()
        text = (f"{body}\n\n来源：{book_title(row['title'])}（知识编号 {article_id}）\n"
                + (f"承办单位：{unit}\n" if unit else "")
                + "这个回答对您有帮助吗？请回复“有用”或“没用”；仍需反映诉求请回复“提交”。")
        return BotReply(text, "answer", article_id=article_id), {"stage": "feedback", "log_id": log_id,
                                                                   "question": question,
                                                                   "article": [article_id, row["title"]]}

    def _offer_submit(self, question: str, lead: str, seen: list | None = None,
                      earlier: list | None = None) -> tuple[BotReply, dict]:
        """``seen``: the article (id, title) the citizen was answered with, named in the ticket if one follows;
        ``earlier``: the question answered just before (and its article), which this one follows up on."""
        state = {"stage": "offer", "question": question, **({"seen": seen} if seen else {}),
                 **({"earlier": earlier} if earlier else {})}
        return BotReply(f"{lead}需要为您提交诉求，由相关部门办理吗？回复“提交”即可，回复“取消”结束。", "offer"), state

    # -- ticket collection ------------------------------------------------
    async def _follow_up(self, message: InboundMessage, number: str, text: str,
                         progress: BotReply) -> tuple[BotReply, dict]:
        """A ticket number with more to say (答复我不满意，要求重新处理): on the citizen's own open ticket it
        is recorded there (the core's intake threads it by the number); otherwise it may become a request."""
        ticket = await self.service.get_ticket_by_number(number)
        if ticket is not None and await self._mine(message, ticket) and ticket.get("state") in OPEN_STATES:
            result = await self.service.ingest(message)
            if result.ticket_number == number:
                return BotReply(f"{progress.text}\n已将您的补充内容记入工单 {number}，承办单位会一并处理。",
                                "progress", ticket_number=number), {}
            if result.ticket_number:  # the intake did not follow the number (the ticket closed meanwhile)
                return BotReply(f"{progress.text}\n您的补充内容已登记为新工单 {result.ticket_number}。", "ticket",
                                ticket_number=result.ticket_number), {}
        return (BotReply(f"{progress.text}\n如需就此反映新的诉求，请回复“提交”。", "progress", ticket_number=number),
                {"stage": "offer", "question": text})

    def _place_detail(self, text: str) -> bool:
        """Whether ``text`` only says where (东山区凤凰路与中山路交叉口): it names a precise place and asks nothing."""
        if re.search(r"[?？]|怎么|如何|什么|多少|哪|吗|能否|是否|为啥|为什么", text) or len(bare_of(text)) > 40:
            return False
        return self._place_in(text) is not None

    async def _add_place(self, message: InboundMessage, number: str) -> BotReply | None:
        """Records ``message`` on the citizen's own open ticket ``number``; None when it cannot be."""
        ticket = await self.service.get_ticket_by_number(number)
        if ticket is None or ticket.get("state") not in OPEN_STATES or not await self._mine(message, ticket):
            return None
        result = await self.service.ingest(message.model_copy(update={"thread_hint": number}))
        if result.ticket_number != number:  # not threaded after all (closed meanwhile): said so
            return BotReply(f"您的补充内容已登记为新工单 {result.ticket_number}。", "ticket",
                            ticket_number=result.ticket_number)
        return BotReply(f"已将您补充的地点记入工单 {number}，承办单位会一并处理。", "progress", ticket_number=number)

    # -- progress ---------------------------------------------------------
    async def _owns(self, message: InboundMessage, number: str) -> bool:
        ticket = await self.service.get_ticket_by_number(number)
        return ticket is not None and await self._mine(message, ticket)

    async def _mine(self, message: InboundMessage, ticket: dict) -> bool:
        """Whether the sender may see and add to ``ticket``: its citizen record holds the sender's identity
        *and* the sender itself filed or wrote to it. A citizen record alone is no proof: records are merged
        by phone numbers typed in requests, which nobody verifies (someone else's number would otherwise
        hand over that person's tickets)."""
        return holds_identity(ticket, message.sender) and ticket["number"] in await self._written_by(
            message, [ticket["number"]])

    async def _written_by(self, message: InboundMessage, numbers: list[str]) -> set[str]:
        """Those of ``numbers`` the sender itself filed or wrote to (:func:`hotline.citizens.tickets_written_by`)."""
        async with self.engine.connect() as conn:
            return await tickets_written_by(conn, message.sender, message.channel, numbers)

    async def _progress(self, message: InboundMessage, number: str, offer_rating: bool = True) -> BotReply:
        """The state, unit and deadline of the sender's own ticket; once answered, also the unit's latest reply
        (and, not yet rated, how to rate it)."""
        ticket = await self.service.get_ticket_by_number(number)
        if ticket is None or not await self._mine(message, ticket):
            return BotReply(f"未找到您名下的工单 {number}，请核对编号。", "progress")
        text = f"工单 {number} 当前状态：{ticket['state_label']}"
        if ticket.get("lead_unit_name"):
            text += f"，承办单位：{ticket['lead_unit_name']}"
        if ticket.get("reply_due_at") and ticket.get("state") not in ("closed", "replied"):
            due = ticket["reply_due_at"]
            due = due if isinstance(due, str) else due.isoformat()
            text += f"，答复期限：{due[:10]}"
        if ticket.get("satisfaction"):
            text += f"，您的评价：{ticket['satisfaction']}"
        text += "。"
        if ticket.get("state") in RATABLE:
            replies = [m for m in ticket.get("messages") or [] if m.get("direction") == "out" and
                       (m.get("text") or "").strip()]
            if replies:  # the citizen's own ticket: the reply as the unit wrote it
                answer = replies[-1]["text"].strip()
                text += "\n答复内容：" + (answer if len(answer) <= REPLY_CHARS else answer[:REPLY_CHARS] + "……")
            if offer_rating and not ticket.get("satisfaction"):
                text += "\n" + RATE_PROMPT
        return BotReply(text, "progress", ticket_number=number)

    async def _rate(self, message: InboundMessage, number: str, satisfaction: str, text: str) -> BotReply | None:
        """Records the owner's satisfaction with the result of ``number`` as the callback (回访) or the WeChat
        rating does: a replied ticket through ``callback`` (不满意 reopens it, the citizen's words its reason),
        one answered or closed and not yet rated through ``rate``. None when it is not theirs or not ratable."""
        ticket = await self.service.get_ticket_by_number(number)
        if ticket is None or not await self._mine(message, ticket):
            return None
        if ticket.get("state") == "replied":
            action = "callback"
        elif ticket.get("state") in RATABLE and not ticket.get("satisfaction"):
            action = "rate"
        else:
            return None
        words = re.sub(r"^(?:工单|编号|工单编号|工单号)?的?\W*", "", text.replace(number, "", 1)).strip()
        params = {"satisfaction": satisfaction}
        if words and bare_of(words) not in SATISFACTION:  # 井盖还是松的: why, in the citizen's words
            params["note"] = words[:2000]
        actor = Actor(username=f"citizen:{message.channel}", role="citizen")
        try:
            await self.service.transition(number, action, actor, params)
        except (TransitionError, InvalidParams) as exc:
            log.info("chatbot rating of %s refused: %s", number, exc)
            return None
        text = f"感谢您的评价！工单 {number} 已记录为“{satisfaction}”。"
        if satisfaction == "不满意" and action == "callback":
            text += "工单将退回承办单位重新办理" + ("，您反映的情况已一并转交。" if "note" in params else "。")
        return BotReply(text, "progress", ticket_number=number)

    async def _my_tickets(self, message: InboundMessage) -> BotReply:
        """The citizen's latest tickets (found by the identity they write from), newest first."""
        recent = await self.service.recent_tickets_of(message.sender, limit=RECENT_SCAN)
        written = await self._written_by(message, [t["number"] for t in recent])
        recent = [t for t in recent if t["number"] in written][:RECENT_TICKETS]
        if not recent:
            return BotReply("没有找到您名下的工单。请发送工单编号（13位数字）查询办理进度。", "progress")
        lines = [f"{i}. {t['number']}" + (f"（{title_of(t['title'])}）" if (t.get("title") or "").strip() else "")
                 + f"：{t['state_label']}" for i, t in enumerate(recent, 1)]
        return BotReply("您最近的工单：\n" + "\n".join(lines) + "\n发送工单编号可查看承办单位和答复期限。", "progress",
                        ticket_number=recent[0]["number"])

    # -- log, feedback, gaps ------------------------------------------------
    async def _log(self, key: str, channel: str, question: str, outcome: str, article_id: int | None,
                   confidence: float | None, ticket_number: str | None = None) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(kb_chat_log.insert().values(
                channel=channel, user_key=key, question=question[:2000], outcome=outcome, article_id=article_id,
                confidence=confidence, ticket_number=ticket_number, created_at=self.clock.now(),
            ).returning(kb_chat_log.c.id))
            return result.scalar_one()

    async def _log_update(self, log_id: int, **values) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(kb_chat_log.update().where(kb_chat_log.c.id == log_id).values(**values))


def _passes(match) -> bool:
    """The checks a direct answer must pass besides its confidence: no weighty asked word, asked kind of fact,
    asked act or qualifier of the topic lacking (:class:`knowledge.confidence.Match`)."""
    return match.missing < MISSING_AT and not match.lacks_fact and not match.lacks_act and not match.qualifier


def _shows_answer(match) -> bool:
    """Whether an FAQ pair answers: the checks, the pair itself holds enough of the question and names the
    thing a what-question asks for."""
    return _passes(match) and match.question >= PAIR_AT and not match.lacks_thing


def _with_earlier(state: dict, earlier: list | None) -> dict:
    """A question's dialogue state, remembering the question (and article) answered just before it."""
    if earlier and state.get("stage") in ("offer", "choose", "feedback"):
        return {**state, "earlier": earlier}
    return state


def _pick(count: int) -> str:
    """Asks again for a choice among ``count`` offered articles."""
    if count == 1:
        return "是请回复 1，不是请回复“提交”反映诉求。"
    return f"请回复 1 到 {count} 之间的序号，都不是请回复“提交”反映诉求。"
