"""Reading the public form: bounded multipart parsing, attachment checks, the client's IP."""

from __future__ import annotations

from urllib.parse import unquote

from aiohttp import web

from channels.mailbox.letters import LetterError, check_attachment
from channels.mailbox.settings import MailboxSettings
from hotline.api.remote import client_address
from hotline.messages import Attachment

FORM_COOKIE = "mailbox_form"
FIELDS = ("csrf", "name", "phone", "email", "subject", "text", "request_type", "publishable", "answer")
MAX_FIELD_BYTES = 64 * 1024
# The first bytes each declared type must start with (a renamed .exe is not a JPEG).
MAGIC = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",), "image/gif": (b"GIF87a", b"GIF89a"),
         "application/pdf": (b"%PDF-",), "image/webp": (b"RIFF",)}


def client_ip(request: web.Request, settings: MailboxSettings) -> str:
    return client_address(request, settings.trust_forwarded_for)


def sniff_ok(content_type: str, data: bytes) -> bool:
    prefixes = MAGIC.get(content_type)
    return prefixes is None or data.startswith(prefixes)


def _filename(raw: str) -> str:
    """Browsers send UTF-8 names, some percent-encoded (quotes as %22): decode, drop any path."""
    name = unquote(raw) if "%" in raw else raw
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "附件"
    return name[:300]


async def _bounded(part, limit: int, what: str) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise LetterError(413, "too_large", f"{what}超过大小限制")
    return bytes(data)


async def read_form(request: web.Request, settings: MailboxSettings) -> tuple[dict[str, str], list[Attachment]]:
    """The form's text fields and uploaded files, refusing anything over the limits before storing it."""
    if request.content_length is not None and request.content_length > settings.max_request_bytes:
        raise LetterError(413, "too_large", f"提交内容超过 {settings.max_request_bytes // 1024 // 1024} MB")
    fields: dict[str, str] = {}
    files: list[Attachment] = []
    if request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        return {k: str(form.get(k, "")) for k in FIELDS if k in form}, []
    if request.content_type != "multipart/form-data":
        raise LetterError(415, "unsupported_media_type", "请通过页面表单提交")
    total = 0
    reader = await request.multipart()
    async for part in reader:
        if part.name == "attachments" and part.filename is not None:
            data = await _bounded(part, settings.max_attachment_bytes, f"附件「{part.filename}」")
            if not part.filename and not data:
                continue  # the empty file input of a form sent without files
            content_type = (part.headers.get("Content-Type") or "application/octet-stream").split(";")[0].lower()
            check_attachment(settings, part.filename, content_type, len(data), len(files))
            if not sniff_ok(content_type, data):
                raise LetterError(415, "unsupported_media_type", f"附件「{part.filename}」的内容与文件类型不符")
            files.append(Attachment(filename=_filename(part.filename), content_type=content_type, data=data,
                                    size=len(data)))
        elif part.name in FIELDS:
            data = await _bounded(part, MAX_FIELD_BYTES, "表单内容")
            fields[part.name] = data.decode(part.get_charset(default="utf-8"), errors="replace")
        else:
            await _bounded(part, MAX_FIELD_BYTES, "表单内容")  # unknown field: read and drop
        total += len(data) if part.name in FIELDS or part.name == "attachments" else 0
        if total > settings.max_request_bytes:
            raise LetterError(413, "too_large", "提交内容超过大小限制")
    return fields, files
