"""The web console is served, public, and loads only files that exist."""

import re

from hotline import appkeys  # noqa: F401


async def test_console_page_and_assets(aiohttp_client, tmp_path):
    from hotline.app import create_app
    from hotline.config import Settings

    app = create_app(Settings(data_dir=tmp_path), plugins=["hotline.api.setup:setup", "hotline.console.web:setup"])
    client = await aiohttp_client(app)
    resp = await client.get("/", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/console"
    page = await client.get("/console")
    html = await page.text()
    assert page.status == 200 and "12345" in html and 'lang="zh-CN"' in html
    assets = re.findall(r'(?:src|href)="(/static/console/[^"]+)"', html)
    assert assets == ["/static/console/console.css", "/static/console/console.js", "/static/console/kb.js"]
    for asset in assets:
        assert (await client.get(asset)).status == 200
    scripts = {a: await (await client.get(a)).text() for a in assets if a.endswith(".js")}
    for name, script in scripts.items():  # user data only ever goes through textContent
        assert not any(sink in script for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML")), name
    assert "diff_html" not in scripts["/static/console/kb.js"]  # the diff is built from `changes`
