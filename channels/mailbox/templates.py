"""HTML of the public mailbox pages: small functions, every user value through :func:`e`."""

from __future__ import annotations

import html
from collections.abc import Mapping

from hotline.lifecycle import REQUEST_TYPES


def e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


CSS = """
body{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f4f5f7;color:#222}
header{background:#b71c1c;color:#fff;padding:14px 16px;font-size:18px}
main{max-width:720px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:8px;padding:16px;margin-bottom:16px}
label{display:block;margin:12px 0 4px;font-weight:600}
input[type=text],input[type=tel],input[type=email],textarea,select{width:100%;box-sizing:border-box;
padding:10px;border:1px solid #ccc;border-radius:6px;font-size:16px}
textarea{min-height:180px}
button{margin-top:16px;width:100%;padding:12px;background:#b71c1c;color:#fff;border:0;border-radius:6px;
font-size:17px}
.err{background:#fdecea;color:#b71c1c;padding:10px;border-radius:6px}
.ok{background:#e8f5e9;padding:10px;border-radius:6px}
.hint{color:#666;font-size:13px}
.reply{border-left:4px solid #b71c1c;padding-left:10px;white-space:pre-wrap}
pre{white-space:pre-wrap;font-family:inherit}
nav a{color:#fff;margin-right:12px}
"""


def page(title: str, body: str, city: str = "本市") -> str:
    return (
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{e(title)} - {e(city)}市长信箱</title><style>{CSS}</style></head><body>"
        f"<header>{e(city)}市长信箱 <nav style=\"display:inline;font-size:14px;margin-left:12px\">"
        "<a href=\"/mailbox\">写信</a><a href=\"/mailbox/query\">查询</a><a href=\"/mailbox/public\">公开信件</a>"
        f"</nav></header><main>{body}</main></body></html>"
    )


def errors_block(errors: list[str]) -> str:
    if not errors:
        return ""
    return "<div class=\"err\" role=\"alert\">" + "<br>".join(e(m) for m in errors) + "</div>"


def letter_form(csrf: str, question: str, values: Mapping[str, str], errors: list[str], limits: Mapping) -> str:
    def v(name: str) -> str:
        return e(values.get(name, ""))

    types = "".join(
        f"<option value=\"{e(t)}\"{' selected' if values.get('request_type') == t else ''}>{e(t)}</option>"
        for t in REQUEST_TYPES)
    checked = " checked" if values.get("publishable") else ""
    return (
        f"<div class=\"card\"><h2>给市长写信</h2>{errors_block(errors)}"
        "<form method=\"post\" action=\"/mailbox\" enctype=\"multipart/form-data\">"
        f"<input type=\"hidden\" name=\"csrf\" value=\"{e(csrf)}\">"
        f"<label for=\"name\">姓名</label><input type=\"text\" id=\"name\" name=\"name\" maxlength=\"50\" "
        f"required value=\"{v('name')}\">"
        f"<label for=\"phone\">手机号码</label><input type=\"tel\" id=\"phone\" name=\"phone\" maxlength=\"20\" "
        f"required value=\"{v('phone')}\">"
        f"<label for=\"email\">电子邮箱（选填）</label><input type=\"email\" id=\"email\" name=\"email\" "
        f"maxlength=\"200\" value=\"{v('email')}\">"
        f"<label for=\"request_type\">诉求类型</label><select id=\"request_type\" name=\"request_type\">{types}</select>"
        f"<label for=\"subject\">标题</label><input type=\"text\" id=\"subject\" name=\"subject\" maxlength=\"100\" "
        f"required value=\"{v('subject')}\">"
        f"<label for=\"text\">信件内容</label><textarea id=\"text\" name=\"text\" "
        f"maxlength=\"{int(limits['max_text_chars'])}\" required>{v('text')}</textarea>"
        f"<label for=\"attachments\">附件（选填，最多 {int(limits['max_attachments'])} 个，每个不超过 "
        f"{int(limits['max_attachment_bytes']) // 1024 // 1024} MB，支持图片、PDF、Word）</label>"
        "<input type=\"file\" id=\"attachments\" name=\"attachments\" multiple>"
        f"<label><input type=\"checkbox\" name=\"publishable\" value=\"1\"{checked}> 同意办结后公开本信件及答复"
        "（公开前将隐去姓名、电话、证件号码、详细地址等个人信息）</label>"
        f"<label for=\"answer\">验证题：{e(question)}</label>"
        "<input type=\"text\" id=\"answer\" name=\"answer\" inputmode=\"numeric\" maxlength=\"4\" required>"
        "<button type=\"submit\">提交信件</button></form>"
        "<p class=\"hint\">请如实反映情况。提交后将获得信件编号和查询码，请妥善保存。</p></div>"
    )


def submitted(number: str, code: str | None) -> str:
    code_html = (f"<p>查询码：<strong style=\"font-size:20px\">{e(code)}</strong></p>"
                 "<p class=\"hint\">查询码只显示这一次，请截图或抄写保存。</p>") if code else \
        "<p class=\"hint\">该信件此前已提交，查询码已在当时显示。</p>"
    return (f"<div class=\"card ok\"><h2>信件已提交</h2><p>信件编号：<strong style=\"font-size:20px\">{e(number)}"
            f"</strong></p>{code_html}<p><a href=\"/mailbox/query\">查询办理进度</a></p></div>")


def query_form(errors: list[str], number: str = "") -> str:
    return (
        f"<div class=\"card\"><h2>信件查询</h2>{errors_block(errors)}"
        "<form method=\"post\" action=\"/mailbox/query\">"
        f"<label for=\"number\">信件编号</label><input type=\"text\" id=\"number\" name=\"number\" maxlength=\"20\" "
        f"required value=\"{e(number)}\">"
        "<label for=\"code\">查询码</label><input type=\"text\" id=\"code\" name=\"code\" maxlength=\"20\" required>"
        "<button type=\"submit\">查询</button></form></div>"
    )


def query_result(ticket: Mapping) -> str:
    replies = [m for m in ticket.get("messages", []) if m["direction"] == "out"]
    reply_html = "".join(f"<div class=\"reply\">{e(m['text'])}</div><p class=\"hint\">{e(m['created_at'])}</p>"
                         for m in replies) or "<p class=\"hint\">暂无答复，请耐心等待。</p>"
    return (
        f"<div class=\"card\"><h2>{e(ticket.get('title'))}</h2>"
        f"<p>信件编号：{e(ticket['number'])}</p><p>办理状态：<strong>{e(ticket['state_label'])}</strong></p>"
        f"<p>承办单位：{e(ticket.get('lead_unit_name') or '待分派')}</p>"
        f"<p>提交时间：{e(ticket.get('created_at'))}</p>"
        f"<h3>来信内容</h3><pre>{e(ticket.get('text'))}</pre><h3>答复</h3>{reply_html}</div>"
    )


def public_list(items: list[Mapping]) -> str:
    rows = "".join(
        f"<div class=\"card\"><a href=\"/mailbox/public/{int(i['id'])}\"><strong>{e(i['title'])}</strong></a>"
        f"<p class=\"hint\">{e(i.get('unit_name') or '')} {e(i.get('reviewed_at') or '')}</p></div>" for i in items)
    return "<h2>公开信件</h2>" + (rows or "<div class=\"card\">暂无公开信件。</div>")


def public_item(item: Mapping) -> str:
    return (f"<div class=\"card\"><h2>{e(item['title'])}</h2><h3>来信</h3><pre>{e(item['question'])}</pre>"
            f"<h3>答复（{e(item.get('unit_name') or '承办单位')}）</h3><div class=\"reply\">{e(item['reply'])}</div>"
            "</div>")


def error_block(message: str) -> str:
    return f"<div class=\"card\">{errors_block([message])}<p><a href=\"/mailbox\">返回写信页面</a></p></div>"
