"""The small app the UI tests serve: the web UI's router mounted at ``/ui``, nothing else.

``uvicorn --factory tests.support.ui_app:make_app`` with ``ORDO_UI_PROJECT`` naming the
project, whose ``config/.env`` is all its settings (nothing from the test machine's
environment); ``ORDO_UI_SECRET`` there signs the sessions. After the merge
``ordo serve``'s app mounts the same router; the tests of the UI do not depend on it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from ordo.config import Settings
from ordo.service.ui import router
from ordo.store.factory import open_store
from ordo.store.service import ServiceStore


def make_app() -> FastAPI:
    settings = Settings.load(Path(os.environ["ORDO_UI_PROJECT"]), environ={})
    store = open_store(settings, settings.root)
    assert isinstance(store, ServiceStore)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(lifespan=lifespan)
    app.include_router(router(store, settings), prefix="/ui")
    return app
