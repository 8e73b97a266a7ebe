"""Old home of the shared test helpers, now in ``tests/support``; kept only so that test files
written before the move still import. New code imports from ``tests.support`` directly."""

from tests.support.http import PROXY_VARIABLES, local_http_server
from tests.support.project import make_project
from tests.support.seeds import HEALTH_KEYS, POOL_KEYS

__all__ = ["HEALTH_KEYS", "POOL_KEYS", "PROXY_VARIABLES", "local_http_server", "make_project"]
