"""MIME parsing that survives real Chinese mail.

Raw bytes are parsed once, here, into a frozen :class:`ParsedMail`:

* GB2312/GBK labelled parts are decoded as GB18030 (its superset; mail
  labelled gb2312 routinely contains GBK-only characters);
* RFC 2047 encoded-word headers and filenames (and RFC 2231 ``filename*``),
  including raw 8-bit headers some clients send;
* HTML-only bodies converted to text (html2text);
* quoted replies stripped (see :mod:`channels.email.quotes`);
* attachments kept with their content type, over-size ones dropped with a note.
"""

from __future__ import annotations

import datetime as dt
import email
import email.header
import email.utils
import hashlib
import re
from email.message import Message
from email.policy import compat32

import html2text
from pydantic import Field

from channels.base import MalformedPayload
from channels.email.quotes import strip_quoted
from hotline.messages import Attachment, Frozen

_GB = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "euc-cn", "cp936", "ms936", "x-euc-cn", "csgb2312", "gb18030"}


def codec_for(charset: str | None) -> str:
    name = (charset or "").strip().strip('"').lower()
    if not name or name in ("us-ascii", "ascii", "unknown-8bit", "x-unknown"):
        return "utf-8"
    if name in _GB:
        return "gb18030"
    if name in ("utf8",):
        return "utf-8"
    return name


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset; fall back to UTF-8, then GB18030, then replacement."""
    candidates = [codec_for(charset), "utf-8", "gb18030"]
    for codec in dict.fromkeys(candidates):
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def decode_header_value(value: str | None) -> str:
    """An RFC 2047 header (or a raw 8-bit one) as text."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):  # compat32 keeps raw 8-bit headers as unknown-8bit Headers
        text = "".join(decode_bytes(c, cs) if isinstance(c, bytes) else c
                       for c, cs in email.header.decode_header(value))
        return decode_header_value(text) if "=?" in text else re.sub(r"\s*\r?\n\s*", " ", text).strip()
    value = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in value):  # raw 8-bit bytes kept by the parser
        value = decode_bytes(value.encode("ascii", "surrogateescape"), None)
    parts = []
    try:
        chunks = email.header.decode_header(value)
    except email.errors.HeaderParseError:
        return value
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            parts.append(decode_bytes(chunk, charset))
        else:
            parts.append(chunk)
    text = "".join(parts)
    return re.sub(r"\s*\r?\n\s*", " ", text).strip()


class ParsedMail(Frozen):
    message_id: str = Field(min_length=1, max_length=200)
    from_address: str
    from_name: str | None = None
    to: tuple[str, ...] = ()
    subject: str = ""
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    dropped: tuple[str, ...] = ()  # notes about attachments not kept
    date: dt.datetime | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()


_MSGID = re.compile(r"<([^<>\s]{1,300})>")


def message_ids(value: str | None) -> tuple[str, ...]:
    """Message-IDs from an In-Reply-To/References header, without angle brackets."""
    if not value:
        return ()
    found = _MSGID.findall(str(value))
    if not found and str(value).strip() and " " not in str(value).strip():
        found = [str(value).strip()]
    return tuple(dict.fromkeys(m[:200] for m in found))


def _html_to_text(html: str) -> str:
    conv = html2text.HTML2Text()
    conv.body_width = 0
    conv.ignore_images = True
    conv.ignore_emphasis = True
    conv.ignore_tables = True
    conv.unicode_snob = True
    text = conv.handle(html)
    text = re.sub(r"\\([-*_#+.!\[\]()`>\\])", r"\1", text)  # plain text wanted, not Markdown escapes
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _filename(part: Message) -> str | None:
    name = part.get_param("filename", header="content-disposition")
    if name is None:
        name = part.get_param("name")
    if isinstance(name, tuple):  # RFC 2231: (charset, language, value); decode with our charset mapping
        charset, _language, value = name
        try:
            name = decode_bytes(value.encode("latin-1", "surrogateescape"), charset)
        except UnicodeEncodeError:
            name = value
    if not name:
        return None
    name = decode_header_value(name)
    name = name.replace("/", "_").replace("\\", "_").strip() or "附件"
    return name[:300]


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    if disposition == "attachment":
        return True
    if part.get_content_maintype() == "text" and disposition != "inline":
        return _filename(part) is not None and part.get_content_subtype() not in ("plain", "html")
    return _filename(part) is not None or part.get_content_maintype() not in ("text", "multipart")


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    return decode_bytes(payload, part.get_content_charset())


def parse_mail(raw: bytes, *, max_bytes: int = 30 * 1024 * 1024, max_attachment_bytes: int = 10 * 1024 * 1024,
               max_attachments: int = 20) -> ParsedMail:
    """Parse one RFC 5322 message; raise :class:`MalformedPayload` when it is not usable mail."""
    if len(raw) > max_bytes:
        raise MalformedPayload(f"邮件超过 {max_bytes // 1024 // 1024} MB")
    msg = email.message_from_bytes(raw, policy=compat32)
    from_name, from_address = email.utils.parseaddr(decode_header_value(msg.get("From")))
    if not from_address or "@" not in from_address:
        raise MalformedPayload("邮件缺少有效的发件人地址")
    to = tuple(a.lower() for _, a in email.utils.getaddresses(
        [decode_header_value(v) for v in (msg.get_all("To") or []) + (msg.get_all("Cc") or [])]) if a)
    ids = message_ids(msg.get("Message-ID"))
    message_id = ids[0] if ids else "sha256:" + hashlib.sha256(raw).hexdigest()
    date = None
    if msg.get("Date"):
        try:
            date = email.utils.parsedate_to_datetime(str(msg.get("Date")))
        except (TypeError, ValueError):
            date = None
        if date is not None and date.tzinfo is None:
            date = None

    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    dropped: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_content_type() == "message/rfc822" or _is_attachment(part):
            data = part.get_payload(decode=True) or b""
            name = _filename(part) or f"附件{len(attachments) + 1}"
            if len(data) > max_attachment_bytes:
                dropped.append(f"附件「{name}」超过 {max_attachment_bytes // 1024 // 1024} MB，未保存")
            elif len(attachments) >= max_attachments:
                dropped.append(f"附件「{name}」超出数量限制，未保存")
            else:
                attachments.append(Attachment(filename=name, content_type=part.get_content_type(), data=data,
                                              size=len(data)))
            continue
        if part.get_content_type() == "text/plain":
            plain.append(_text_of(part))
        elif part.get_content_type() == "text/html":
            html.append(_text_of(part))
    if plain:
        body = "\n\n".join(p.strip() for p in plain)
    else:
        body = "\n\n".join(_html_to_text(h) for h in html)
    body = strip_quoted(body.replace("\r\n", "\n"))
    if dropped:
        body = (body + "\n\n" + "\n".join(f"（{d}）" for d in dropped)).strip()
    try:
        return ParsedMail(
            message_id=message_id[:200], from_address=from_address.lower(), from_name=from_name or None,
            to=to, subject=decode_header_value(msg.get("Subject"))[:200], text=body,
            attachments=tuple(attachments), dropped=tuple(dropped), date=date,
            in_reply_to=message_ids(msg.get("In-Reply-To")), references=message_ids(msg.get("References")),
        )
    except ValueError as exc:
        raise MalformedPayload(f"邮件无法解析：{exc}") from None
