"""JSON errors: every failure under /api and /channels answers {"error": {"code", "message"}}."""

from __future__ import annotations

import json
import logging

import pydantic
from aiohttp import web

from hotline.lifecycle import TransitionError
from hotline.validation import validation_message  # noqa: F401 - also imported from here by plugins

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def dumps(value) -> str:
    """JSON with Chinese text kept readable (UTF-8, not \\u escapes)."""
    return json.dumps(value, ensure_ascii=False)


def json_response(data, *, status: int = 200, headers=None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=dumps)


def error_response(status: int, code: str, message: str) -> web.Response:
    return json_response({"error": {"code": code, "message": message}}, status=status)


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid_params", 429: "too_many_requests"}


_HTTP_REASONS = {404: "接口不存在", 405: "不支持该请求方法", 413: "请求体过大",
                 415: "不支持的请求体类型"}


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except TransitionError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except pydantic.ValidationError as exc:
        return error_response(422, "invalid_params", validation_message(exc))
    except web.HTTPException as exc:
        if exc.status < 400 or not _is_machine_path(request.path) or exc.content_type == "application/json":
            raise
        own_text = exc.text and not exc.text.startswith(f"{exc.status}:")
        message = exc.text if own_text else _HTTP_REASONS.get(exc.status, exc.reason)
        return error_response(exc.status, _HTTP_CODES.get(exc.status, "error"), message)
    except Exception:
        if not _is_machine_path(request.path):
            raise
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "服务器内部错误，请稍后重试；问题已记录")


def _is_machine_path(path: str) -> bool:
    return path.startswith(("/api/", "/channels/", "/healthz"))


async def read_json(request: web.Request, model: type[pydantic.BaseModel]) -> pydantic.BaseModel:
    """Parse and validate a JSON body once, at the edge."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "请求体必须是 application/json")
    raw = await request.read()
    try:
        data = json.loads(raw or b"null")
    except json.JSONDecodeError as exc:  # where, in Chinese (the parser's own words are English)
        raise ApiError(400, "invalid_json", f"JSON 格式错误：第 {exc.lineno} 行第 {exc.colno} 列") from None
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "JSON 格式错误：请求体不是 UTF-8 编码") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "请求体必须是 JSON 对象")
    return model.model_validate(data)
