"""The SMS gateway's HTTP API: send one message (as its segments), retrying transient failures."""

from __future__ import annotations

import asyncio

import aiohttp


class GatewayError(Exception):
    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class GatewayClient:
    def __init__(self, http, settings) -> None:
        self.http = http
        self.settings = settings

    async def send(self, ref: str, to: str, parts: list[str]) -> tuple[str, int]:
        """POST the message; returns (gateway id, attempts). Retries 5xx, 429 and network errors."""
        payload = {"ref": ref, "from": self.settings.sender, "to": to, "parts": parts}
        if self.settings.receipt_url:
            payload["receipt_url"] = self.settings.receipt_url
        headers = {"Authorization": f"Bearer {self.settings.api_key or ''}"}
        url = self.settings.api_base.rstrip("/") + "/v1/sms/send"
        last: GatewayError | None = None
        for attempt in range(1, self.settings.send_attempts + 1):
            try:
                async with self.http.post(url, json=payload, headers=headers) as resp:
                    data = await resp.json(content_type=None) if resp.content_length != 0 else None
                    data = data if isinstance(data, dict) else {}
                    if resp.status == 200 and data.get("id"):
                        return str(data["id"]), attempt
                    last = GatewayError(f"gateway {resp.status}: {data.get('message', '')}",
                                        retryable=resp.status >= 500 or resp.status == 429)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                last = GatewayError(f"gateway unreachable: {type(exc).__name__}", retryable=True)
            if not last.retryable:
                break
            if attempt < self.settings.send_attempts:
                await asyncio.sleep(self.settings.retry_backoff_seconds * attempt)
        last.attempts = attempt  # type: ignore[attr-defined]
        raise last
