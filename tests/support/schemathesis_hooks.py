"""schemathesis hooks for the OpenAPI probe: the probe's own API key is never revoked or narrowed by the probe.

schemathesis reuses ids it saw in responses (``GET /v0/api-keys`` lists the probe's key); a DELETE or PATCH of that
key would turn the rest of the run into 401s and 403s, so such a request names a key that does not exist instead.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

PROBE_KEY_ID = "POSTROOM_PROBE_API_KEY_ID"
ABSENT_KEY_ID = "ak_probe_absent"


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    own = os.environ.get(PROBE_KEY_ID)
    url = kwargs.get("url")
    if own and isinstance(url, str) and own in url:
        kwargs["url"] = url.replace(own, ABSENT_KEY_ID)
