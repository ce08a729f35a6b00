"""What the service does once at start-up."""

from __future__ import annotations

from fastapi import FastAPI


def on_startup(app: FastAPI) -> None:
    pass
