"""The emulator process: moto's server with the adapters and patches installed, on loopback."""

from __future__ import annotations

import logging
import os

from werkzeug.serving import make_server

from tmkit.config import EMULATOR_ACCOUNT
from tmkit.emulator import patches

HOST = "127.0.0.1"


def install() -> None:
    """Register the CloudFormation adapters and apply the patches (idempotent). Call before serving."""
    os.environ.setdefault("MOTO_ACCOUNT_ID", EMULATOR_ACCOUNT)  # before moto is imported
    from moto.cloudformation import parsing

    import tmkit.emulator.adapters  # noqa: F401  (defining the classes registers them; imports moto)

    patches.apply()
    # moto caches the type map on first use: clear it so the adapters (defined later) are seen.
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def serve(port: int) -> None:
    """Serve forever on 127.0.0.1:port (blocks)."""
    os.environ["MOTO_ACCOUNT_ID"] = EMULATOR_ACCOUNT
    install()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(HOST, port, app, threaded=True, request_handler=MotoRequestHandler)
    logging.getLogger("tmkit.emulator").info("emulator listening on http://localhost:%d (pid %d)", port, os.getpid())
    server.serve_forever()
