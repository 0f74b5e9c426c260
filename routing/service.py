"""The routing service the application holds: one ``suggest`` call per new ticket.

It combines the classifier (category, request type), the gazetteer (area),
the rule table (units), and the emergency, scope and sensitivity checks into
one JSON-serialisable suggestion. Loading and CPU-bound work run in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.textnorm import normalise
from routing import liveness, store
from routing.classifier import REQUEST_TYPES, RoutingModel
from routing.emergency import EmergencyDetector
from routing.gazetteer import Gazetteer, build_gazetteer  # noqa: F401  (build_gazetteer: re-exported)
from routing.rules import RuleTable
from routing.scope import ScopeChecker
from routing.sensitive import SensitivityChecker
from routing.settings import RoutingSettings
from routing.tables import routing_rules
from routing.taxonomy import Taxonomy

log = logging.getLogger(__name__)

TYPE_WORDS = (("举报", "举报"), ("投诉", "投诉"), ("表扬", "表扬"), ("感谢", "表扬"), ("建议", "建议"),
              ("希望", "建议"), ("求助", "求助"), ("帮忙", "求助"), ("请问", "咨询"), ("咨询", "咨询"), ("怎么", "咨询"))


def guess_request_type(text: str) -> tuple[str, float]:
    """Keyword fallback when the model has no request-type head."""
    for word, kind in TYPE_WORDS:
        if word in text:
            return kind, 0.5
    return "投诉", 0.2


def span_in_text(span: list[int], offset: int) -> list[int] | None:
    """A span found in ``title + "。" + text`` as positions in ``text`` (``offset`` = len(title) + 1): clipped to
    the text when it starts in the title, None when the area is named in the title only."""
    start, end = span[0] - offset, span[1] - offset
    return [max(start, 0), end] if end > 0 else None


class RoutingService:
    def __init__(self, *, data_dir: Path | None = None, engine: AsyncEngine | None = None,
                 settings: RoutingSettings | None = None, taxonomy: Taxonomy | None = None,
                 gazetteer: Gazetteer | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.engine = engine
        self.settings = settings or RoutingSettings()
        # The stored taxonomy (categories table) once loaded, the shipped categories.csv until then or while the
        # table is empty; a taxonomy given here is used as is and never reloaded.
        self._fixed_taxonomy = taxonomy is not None
        self.taxonomy = taxonomy or Taxonomy.from_csv()
        self.unknown_labels: list[str] = []  # the model's categories the taxonomy does not know
        self.gazetteer = gazetteer or build_gazetteer(self.settings)
        self.emergency = EmergencyDetector()
        self.scope = ScopeChecker()
        self.sensitive = SensitivityChecker()
        self.model: RoutingModel | None = None
        self.model_path: Path | None = None
        self.model_error: str | None = None  # why the file ACTIVE names could not be loaded (old model kept)
        self.rules = RuleTable.default()
        self._pointer_mtime: float | None = None
        self._rules_stamp: tuple | None = None
        self._categories_stamp: str | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    # -- loading --------------------------------------------------------
    def _pointer_state(self) -> float | None:
        if self.data_dir is None:
            return None
        pointer = store.active_pointer(self.data_dir)
        return pointer.stat().st_mtime if pointer.exists() else None

    def _load_model(self, path: Path) -> RoutingModel:
        model = RoutingModel.load(path)
        model.segmenter.add_words(self.gazetteer.names())
        model.segmenter.prepare("预热")  # build jieba's trie now, not on the first ticket
        liveness.warm()  # and the emergency detector's word boundaries
        return model

    async def reload(self) -> dict[str, Any]:
        """Load the active model, the rule table and the taxonomy again (hot swap; requests keep using the old
        ones meanwhile).

        A model file that cannot be loaded while another model is in use is logged and the old model kept;
        the pointer state is recorded all the same, so it is not retried until models/ACTIVE changes again.
        """
        async with self._lock:
            # Stamps first: a change landing while we load is then seen by the next check.
            mtime = self._pointer_state()
            rules_stamp = await self._rules_state()
            path = store.active_model_path(self.data_dir)
            try:
                model = await asyncio.get_running_loop().run_in_executor(None, self._load_model, path)
                error = None
            except Exception:
                if self.model is None:
                    if path == store.DEFAULT_MODEL:
                        raise
                    # Nothing to keep yet (start-up): fall back to the shipped default rather than not start.
                    log.exception("cannot load routing model %s; using the default model", path)
                    model = await asyncio.get_running_loop().run_in_executor(None, self._load_model,
                                                                              store.DEFAULT_MODEL)
                    error = f"无法加载模型文件 {path.name}（详见日志），暂用默认模型 {model.version}"
                    path = store.DEFAULT_MODEL
                else:
                    log.exception("cannot load routing model %s; keeping %s", path, self.model.version)
                    error = f"无法加载模型文件 {path.name}（详见日志），继续使用模型 {self.model.version}"
                    model, path = self.model, self.model_path
            taxonomy, categories_stamp = await self._load_taxonomy()
            rules = self.rules
            if self.engine is not None:
                try:
                    async with self.engine.begin() as conn:
                        rules = await store.rules_or_seed(conn)
                except IntegrityError:  # another process seeded the empty table first
                    async with self.engine.connect() as conn:
                        rules = await store.load_rules(conn)
            unknown = taxonomy.unknown(model.category.classes)
            if unknown and (unknown != self.unknown_labels or model is not self.model):
                log.warning("routing model %s has %d categories outside the taxonomy (%s): %s; their suggestions "
                            "have no category code and match no category rule", model.version, len(unknown),
                            taxonomy.source, ", ".join(unknown[:20]))
            self.model, self.model_path, self.rules, self.model_error = model, path, rules, error
            self.taxonomy, self.unknown_labels = taxonomy, unknown
            self._pointer_mtime, self._rules_stamp, self._checked_at = mtime, rules_stamp, time.monotonic()
            self._categories_stamp = categories_stamp
        return self.status()

    async def _load_taxonomy(self) -> tuple[Taxonomy, str | None]:
        """The stored taxonomy (the shipped categories.csv while the table is empty) and its stamp."""
        if self.engine is None or self._fixed_taxonomy:
            return self.taxonomy, None
        async with self.engine.connect() as conn:
            rows = await store.category_rows(conn)
        return store.taxonomy_from_rows(rows), store.categories_stamp(rows)

    async def _categories_state(self) -> str | None:
        """A digest of the stored taxonomy (changed by ``hotline categories import``)."""
        if self.engine is None or self._fixed_taxonomy:
            return None
        async with self.engine.connect() as conn:
            return store.categories_stamp(await store.category_rows(conn))

    async def _rules_state(self) -> tuple | None:
        """Row count and newest change of the stored rule table (changed by the API or the CLI)."""
        if self.engine is None:
            return None
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(sa.func.count(), sa.func.max(routing_rules.c.updated_at)))).first()
        return tuple(row)

    async def reload_if_changed(self) -> bool:
        """Reload when models/ACTIVE, the stored rule table or the stored taxonomy changed (checked every few
        seconds)."""
        if time.monotonic() - self._checked_at < self.settings.reload_check_seconds:
            return False
        self._checked_at = time.monotonic()
        if (self._pointer_state() == self._pointer_mtime and await self._rules_state() == self._rules_stamp
                and await self._categories_state() == self._categories_stamp):
            return False
        await self.reload()
        return True

    def status(self) -> dict[str, Any]:
        return {"model_version": self.model.version if self.model else None,
                "model_path": str(self.model_path) if self.model_path else None,
                "model_meta": self.model.meta if self.model else None, "model_error": self.model_error,
                "rules": len(self.rules.rules),
                "taxonomy": {"source": self.taxonomy.source, "categories": len(self.taxonomy),
                             "unknown_model_labels": self.unknown_labels}}

    # -- suggesting -----------------------------------------------------
    async def suggest(self, text: str, *, intake_line: str = "12345", channel: str = "",
                      title: str | None = None, request_type: str | None = None) -> dict[str, Any]:
        if self.model is None:
            await self.reload()
        else:
            await self.reload_if_changed()
        model, rules, taxonomy = self.model, self.rules, self.taxonomy
        return await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.suggest_sync(text, intake_line=intake_line, channel=channel, title=title,
                                            request_type=request_type, model=model, rules=rules, taxonomy=taxonomy))

    def suggest_sync(self, text: str, *, intake_line: str = "12345", channel: str = "", title: str | None = None,
                     request_type: str | None = None, model: RoutingModel | None = None,
                     rules: RuleTable | None = None, taxonomy: Taxonomy | None = None) -> dict[str, Any]:
        """What, where, how urgent and which unit; a ``request_type`` already recorded by a person wins over the model's."""
        model, rules, taxonomy = model or self.model, rules or self.rules, taxonomy or self.taxonomy
        text, title = normalise(text or ""), normalise(title or "")  # 電梯壞了 is 电梯坏了
        full = f"{title}。{text}" if title else text
        pred = model.predict(full, top=5)
        candidates = [(taxonomy.resolve(label), label, p) for label, p in pred["category"]["top"]]
        best_cat, best_label, best_p = candidates[0]

        level1 = None
        if best_cat is not None:
            top = taxonomy.top(best_cat)
            share = sum(p for c, _, p in candidates if c is not None and taxonomy.top(c).code == top.code)
            level1 = {"code": top.code, "name": top.name, "confidence": round(min(share, 1.0), 4)}

        if request_type in REQUEST_TYPES:
            rtype, rtype_p = request_type, 1.0
        elif pred["request_type"] is not None:
            rtype, rtype_p = pred["request_type"]["label"], pred["request_type"]["confidence"]
        else:
            rtype, rtype_p = guess_request_type(full)

        area = self.gazetteer.extract(full)
        if area is not None and title:
            area["span"] = span_in_text(area["span"], len(title) + 1)
        emergency = self.emergency.detect(full)
        out_of_scope = self.scope.check(text or title or "")
        sensitive = self.sensitive.check(full)

        unit_scores: dict[str, float] = defaultdict(float)
        unit_match = {}
        for cat, _, p in candidates:
            m = rules.match(category=cat.code if cat else None, request_type=rtype, area=area,
                            intake_line=intake_line, text=full)
            if m is None:
                continue
            unit_scores[m.lead_unit] += p
            unit_match.setdefault(m.lead_unit, m)
        ranked = sorted(unit_scores.items(), key=lambda kv: -kv[1])
        lead = ranked[0][0] if ranked else None
        match = unit_match.get(lead)
        confidence = round(min(ranked[0][1], 1.0), 4) if ranked else 0.0
        auto = bool(match and confidence >= self.settings.auto_threshold and not emergency and not out_of_scope)

        alerts = []
        if emergency:
            alerts.append(f"紧急情况（{emergency['reason']}）：请立即转接 {emergency['number']}")
        if sensitive:
            alerts.append("敏感/群体性事项：请报告值班领导（" + "、".join(sensitive["reasons"]) + "）")
        if out_of_scope:
            alerts.append("可能不属于受理范围：" + out_of_scope["reason"] + "（请人工判断，系统不会自动退回）")
        if best_cat is None:
            alerts.append(f"建议的分类“{best_label}”不在分类体系中：没有分类代码，也匹配不到按分类设置的分拨规则，请人工选择分类")

        return {
            "category": best_cat.code if best_cat else None,
            "category_name": best_cat.name if best_cat else best_label,
            "category_confidence": round(best_p, 4),
            "category_level1": level1,
            "request_type": rtype if rtype in REQUEST_TYPES else None,
            "request_type_confidence": round(rtype_p, 4),
            "area": self._area(area),
            "lead_unit": lead,
            "co_units": match.co_units if match else [],
            "confidence": confidence,
            "auto_dispatch": auto,
            "queue": "auto" if auto else "manual",
            "top3": [{"unit": u, "score": round(min(s, 1.0), 4)} for u, s in ranked[:3]],
            "rule": match.rule.id if match else None,
            "model_version": model.version,
            "scores": {"category": [[label, round(p, 4)] for _, label, p in candidates],
                       "request_type": [[t, round(p, 4)] for t, p in pred["request_type"]["top"]]
                       if pred["request_type"] else [],
                       # the share of the text's distinctive words the model knows (RoutingModel.coverage)
                       "coverage": pred["category"].get("coverage")},
            "emergency": {"number": emergency["number"], "reason": emergency["reason"],
                          "evidence": emergency["evidence"]} if emergency else None,
            "out_of_scope": out_of_scope,
            "sensitive": sensitive,
            "alerts": alerts,
            "intake_line": intake_line,
            "channel": channel,
        }

    @staticmethod
    def _area(area: dict | None) -> dict | None:
        if area is None:
            return None
        keys = ("district", "street", "community", "address", "span", "district_code", "street_code",
                "community_code", "level")
        return {k: area.get(k) for k in keys}
