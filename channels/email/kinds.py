"""What kind of mail a raw message is, so bounces and auto-replies never become tickets."""

from __future__ import annotations

import email
import re
from email.policy import compat32

from channels.email.mime import decode_header_value

_AUTO_SUBJECT = re.compile(r"^\s*(自动回复|自动答复|Auto(matic)? ?reply|Out of (the )?office|休假)", re.I)


def mail_kind(raw: bytes) -> str:
    """"message" for a citizen's mail; "delivery-status", "read-receipt" or "auto-reply" otherwise."""
    head = email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0] + b"\n\n",
                                    policy=compat32)
    ctype = (head.get_content_type() or "").lower()
    report = (head.get_param("report-type") or "").lower() if ctype == "multipart/report" else ""
    sender = decode_header_value(head.get("From")).lower()  # a raw 8-bit From is a Header, not a str
    if report == "delivery-status" or sender.startswith(("mailer-daemon", "postmaster")):
        return "delivery-status"
    if report == "disposition-notification":
        return "read-receipt"
    auto = (head.get("Auto-Submitted") or "no").strip().lower()
    if auto != "no" or head.get("X-Autoreply") or head.get("X-Autorespond") \
            or _AUTO_SUBJECT.match(decode_header_value(head.get("Subject"))):
        return "auto-reply"
    return "message"
