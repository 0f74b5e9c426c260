"""The OpenAPI document, built from the application's own router.

Every route under /api is described from its handler: the first docstring
line is the summary, and a handler that takes a JSON body names its pydantic
model with :func:`body`. A test checks every route is in the document.
"""

from __future__ import annotations

import inspect
import re

from aiohttp import web

from hotline.api.errors import json_response

import hotline

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {"code": {"type": "string"},
                                                              "message": {"type": "string"}},
                             "required": ["code", "message"]}},
}


def body(model):
    """Mark a handler as taking a JSON body validated by ``model``."""
    def mark(handler):
        handler.openapi_body = model
        return handler
    return mark


def _handler_of(route):
    handler = route.handler
    return getattr(handler, "__func__", handler)


def build_spec(app: web.Application) -> dict:
    paths: dict[str, dict] = {}
    schemas: dict[str, dict] = {}
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if not path or not (path.startswith("/api/") or path == "/healthz") or route.method == "HEAD":
            continue
        handler = _handler_of(route)
        doc = inspect.getdoc(handler) or ""
        operation: dict = {
            "summary": doc.splitlines()[0] if doc else "",
            "operationId": f"{route.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}",
            "responses": {
                "200": {"description": "OK"},
                "4XX": {"description": "错误", "content": {"application/json": {"schema": ERROR_SCHEMA}}},
            },
        }
        params = re.findall(r"{(\w+)(?::[^}]*)?}", path)
        if params:
            operation["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                                       for p in params]
        model = getattr(handler, "openapi_body", None)
        if model is not None:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}
        clean = re.sub(r"{(\w+):[^}]*}", r"{\1}", path)
        paths.setdefault(clean, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "12345 政务服务便民热线 API", "version": hotline.__version__},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "hotline_session"}},
        },
        "security": [{"bearer": []}, {"session": []}],
    }


async def openapi_json(request: web.Request) -> web.Response:
    """This OpenAPI document."""
    return json_response(build_spec(request.app))
