"""Tickets created per second through the API on SQLite, beside a bare aiohttp handler.

    python bench/api_bench.py [--tickets 2000] [--concurrency 20]

Both servers run in this process on 127.0.0.1 and are driven by the same
client loop, so the figure for the bare handler is the ceiling the machine
allows for one aiohttp process; the ratio is what the ticket engine costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BODY = {"channel": "phone", "text": "云湖区湖滨路的井盖丢失了，晚上很危险，请尽快处理", "request_type": "求助",
        "citizen": {"phone": "13800138000"}}


async def drive(url: str, total: int, concurrency: int, headers: dict) -> tuple[float, list[float]]:
    latencies: list[float] = []
    counter = iter(range(total))
    async with aiohttp.ClientSession(headers=headers) as session:
        async def worker():
            for i in counter:
                body = {**BODY, "citizen": {"phone": f"138{i % 100000000:08d}"}}
                t0 = time.perf_counter()
                async with session.post(url, json=body) as resp:
                    await resp.read()
                    if resp.status != 201:
                        raise SystemExit(f"unexpected {resp.status}: {await resp.text()}")
                latencies.append(time.perf_counter() - t0)
                done = len(latencies)
                if done % max(1, total // 20) == 0:
                    print(f"\r  {done}/{total}", end="", file=sys.stderr, flush=True)
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    print(file=sys.stderr)
    return total / elapsed, sorted(latencies)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001
    return runner, f"http://127.0.0.1:{port}"


def bare_app() -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"number": "2026112300001", "state": "new", "echo": body}, status=201)

    app = web.Application()
    app.router.add_post("/api/v1/tickets", handler)
    return app


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p * len(values)))] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()

    from hotline.app import create_app
    from hotline.config import Settings
    from hotline.demo import seed_demo
    from hotline import appkeys

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        app = create_app(settings, plugins=["hotline.api.setup:setup"])
        runner, base = await serve(app)
        service = app[appkeys.SERVICE]
        await seed_demo(service)
        from hotline.users import create_user, issue_token
        async with service.engine.begin() as conn:
            token = await issue_token(conn, await create_user(conn, "bench", "agent", service.now()), service.now())
        print(f"hotline API (SQLite, {args.concurrency} concurrent clients):", file=sys.stderr)
        rate, lat = await drive(f"{base}/api/v1/tickets", args.tickets, args.concurrency,
                                {"Authorization": f"Bearer {token}"})
        await runner.cleanup()

    bare_runner, bare_base = await serve(bare_app())
    print("bare aiohttp handler:", file=sys.stderr)
    bare_rate, bare_lat = await drive(f"{bare_base}/api/v1/tickets", args.tickets, args.concurrency, {})
    await bare_runner.cleanup()

    result = {
        "tickets": args.tickets, "concurrency": args.concurrency,
        "hotline_tickets_per_second": round(rate, 1),
        "hotline_p50_ms": round(pct(lat, 0.5), 2), "hotline_p99_ms": round(pct(lat, 0.99), 2),
        "bare_aiohttp_requests_per_second": round(bare_rate, 1),
        "bare_p50_ms": round(pct(bare_lat, 0.5), 2), "bare_p99_ms": round(pct(bare_lat, 0.99), 2),
        "ratio_of_bare": round(rate / bare_rate, 3),
    }
    print(f"ticket creation via API on SQLite: {rate:8.1f} tickets/s "
          f"(p50 {result['hotline_p50_ms']} ms, p99 {result['hotline_p99_ms']} ms)")
    print(f"bare aiohttp handler (peer):       {bare_rate:8.1f} requests/s "
          f"(p50 {result['bare_p50_ms']} ms, p99 {result['bare_p99_ms']} ms)")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
