"""The web pages (DESIGN 6): server-rendered over the same repositories and services as the API."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.web import (
    admin,
    certificates,
    certifier_queue,
    certifier_replace,
    certifier_review,
    exporter,
    home,
    importer,
    verify,
)
from api.web.rendering import STATIC


def install_pages(app: FastAPI) -> None:
    app.include_router(home.router)
    app.include_router(verify.router)
    app.include_router(certifier_queue.router)
    app.include_router(certifier_review.router)
    app.include_router(certifier_replace.router)
    app.include_router(admin.router)
    app.include_router(certificates.router)
    app.include_router(certificates.documents)
    app.include_router(exporter.router)
    app.include_router(importer.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
