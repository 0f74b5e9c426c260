"""Sensitive and mass incidents that leaders must see: many people, collective action, media attention."""

from __future__ import annotations

import re

CHECKS: tuple[tuple[str, re.Pattern], ...] = (
    ("群体性事件", re.compile(r"群体性|集体上访|集体维权|集体讨薪|围堵|(?<![车辆停放摆])堵(?:路|门)|拉横幅|拉条幅|静坐|游行"
                           r"|聚集[^，。]{0,6}(讨|维权|抗议)|罢工|罢课|罢市|冲击(?!钻)")),
    ("涉及人数众多", re.compile(r"[几数]十[个名户位多]?(人|户|名|家|业主|工人|村民|居民|学生|家长)|上[百千]|数[百千]|几百|全体(业主|村民|员工|居民)"
                               r"|整个(小区|村|片区)|[一二三四五六七八九十百千\d]{2,}(多)?(户|名|位)(业主|居民|村民|工人|家长)?")),
    ("媒体关注", re.compile(r"媒体|记者|电视台|报社|曝光|微博|抖音|热搜|网上发酵|舆论|网络上传|朋友圈都在传|自媒体")),
    ("极端行为风险", re.compile(r"自焚|跳楼讨薪|以死相逼|同归于尽|报复社会|爆炸[^，。]{0,4}(威胁|要挟)|扬言")),
)


class SensitivityChecker:
    """``check`` returns ``{"reasons": [...]}`` when leaders should be alerted, else None."""

    def check(self, text: str) -> dict | None:
        reasons = [name for name, pattern in CHECKS if pattern.search(text or "")]
        return {"reasons": reasons} if reasons else None
