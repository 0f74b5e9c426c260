"""Remove personal data from letters and replies before publication.

Automatic, conservative, and always followed by an agent's review: ID card
numbers, phone numbers, e-mail addresses, house numbers and room-level
addresses, the writer's known name and names introduced as "我叫…", "…先生".
"""

from __future__ import annotations

import re

ID_CARD = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
                     r"(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)\(?0\d{2,3}\)?[- ]?[2-8]\d{6,7}(?!\d)")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
HAN = r"[\u4e00-\u9fff]"
# "春波小区3幢2单元501室", "阳光花园5栋", "8号楼1单元302"
BUILDING = re.compile(rf"(?:{HAN}{{1,12}}?(?:小区|花园|苑|公寓|新村|家园|大厦|社区|广场)\s*)?"
                      r"\d+\s*(?:幢|栋|号楼|座)(?:\s*\d+\s*单元)?(?:\s*\d+\s*(?:室|号|户))?")
ROOM = re.compile(r"\d+\s*单元\s*\d+\s*(?:室|号)|(?<!\d)\d{3,4}\s*室")
# "文三路138号" -> "文三路[门牌号已隐去]": the street stays (it says where the problem is).
HOUSE_NUMBER = re.compile(rf"({HAN}{{1,10}}(?:路|街|大道|巷|弄|胡同|里))\s*\d+(?:[-之]\d+)?\s*号")
INTRODUCED = re.compile(rf"(我叫|我姓|本人|姓名[:：]?|联系人[:：]?|署名[:：]?)\s*({HAN}{{1,3}})(?=[，,。.\s、]|$)")
HONORIFIC = re.compile(rf"{HAN}(先生|女士|小姐|警官|师傅|老师|阿姨|大爷|大妈|同志)")


def redact(text: str | None, names: list[str] | tuple[str, ...] = ()) -> str:
    if not text:
        return ""
    out = ID_CARD.sub("[身份证号已隐去]", text)
    out = EMAIL.sub("[邮箱已隐去]", out)
    out = MOBILE.sub("[电话已隐去]", out)
    out = LANDLINE.sub("[电话已隐去]", out)
    out = BUILDING.sub("[详细地址已隐去]", out)
    out = ROOM.sub("[详细地址已隐去]", out)
    out = HOUSE_NUMBER.sub(lambda m: f"{m.group(1)}[门牌号已隐去]", out)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        out = out.replace(name, "某某")
    out = INTRODUCED.sub(lambda m: f"{m.group(1)}某某", out)
    out = HONORIFIC.sub(lambda m: f"某{m.group(1)}", out)
    return out
