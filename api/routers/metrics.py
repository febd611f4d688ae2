"""`GET /metrics`: the API's Prometheus metrics, for anyone (DESIGN 5), like `/healthz`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from api.deps import get_sessions
from api.metrics import ApiMetrics

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(request: Request) -> Response:
    api_metrics: ApiMetrics = request.app.state.metrics
    body = await api_metrics.exposition(get_sessions(request))
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)
