"""Helpers of the mailbox tests: the real app, a browser-like form round trip."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp

import channels.web
from channels.mailbox import pages
from channels.mailbox.settings import MailboxSettings
from hotline.app import create_app
from hotline.config import Settings

FIXTURES = Path(__file__).parent / "fixtures"
SECRET_KEY = "test-secret-key"


def load(name: str):
    path = FIXTURES / name
    return json.loads(path.read_text()) if name.endswith(".json") else path.read_bytes()


def make_app(engine, clock, tmp_path, **overrides):
    settings = MailboxSettings(**{"partner_secret": "partner-secret", **overrides})
    app = create_app(Settings(data_dir=tmp_path / "data", secret_key=SECRET_KEY), engine=engine, clock=clock,
                     plugins=["hotline.api.setup:setup"])
    pages.setup(app, settings)
    channels.web.setup(app, only=["mailbox"], channel_settings={"mailbox": settings})
    return app


class Browser:
    """Fetches the form, solves the challenge, posts multipart like a browser (cookies kept by the client)."""

    def __init__(self, client) -> None:
        self.client = client
        self.nonce = ""

    def set_form_cookie(self, nonce: str | None) -> None:
        """Replace the browser's form cookie (a replay, or a cross-site post without it)."""
        self.client.session.cookie_jar.clear()
        if nonce:
            self.client.session.cookie_jar.update_cookies({"mailbox_form": nonce}, self.client.make_url("/mailbox"))

    async def form(self) -> tuple[str, str, str]:
        resp = await self.client.get("/mailbox")
        assert resp.status == 200
        page = await resp.text()
        self.nonce = resp.cookies["mailbox_form"].value
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        a, op, b = re.search(r"验证题：(\d+) (加|减) (\d+) 等于多少", page).groups()
        answer = int(a) + int(b) if op == "加" else int(a) - int(b)
        return page, csrf, str(answer)

    def multipart(self, fields: dict, files: list[tuple[str, bytes, str]] = ()) -> aiohttp.FormData:
        data = aiohttp.FormData()
        for key, value in fields.items():
            data.add_field(key, str(value))
        for name, content, ctype in files:
            data.add_field("attachments", content, filename=name, content_type=ctype)
        return data

    async def submit(self, fields: dict, files=(), *, csrf: str | None = None, answer: str | None = None,
                     fetch: bool = True, headers: dict | None = None):
        if fetch:
            _, got_csrf, got_answer = await self.form()
            csrf = got_csrf if csrf is None else csrf
            answer = got_answer if answer is None else answer
        payload = {**fields, "csrf": csrf or "", "answer": answer or ""}
        resp = await self.client.post("/mailbox", data=self.multipart(payload, files), headers=headers)
        return resp.status, await resp.text()

    async def query(self, number: str, code: str):
        resp = await self.client.post("/mailbox/query", data={"number": number, "code": code})
        return resp.status, await resp.text()


def number_and_code(page: str) -> tuple[str, str | None]:
    number = re.search(r"信件编号：<strong[^>]*>(\d+)</strong>", page).group(1)
    code = re.search(r"查询码：<strong[^>]*>([A-Z0-9]+)</strong>", page)
    return number, code.group(1) if code else None
