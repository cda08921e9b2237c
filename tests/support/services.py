"""Skip or fail when a real service the tests need is missing.

On a newcomer's machine a test that needs Node.js, PostgreSQL, Redis or Chromium skips
with a clear reason. CI sets ``JIRAGUARD_TEST_REQUIRE_SERVICES=1``: there a missing service
fails the test instead, so no skip can hide a failure.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

STRICT = os.environ.get("JIRAGUARD_TEST_REQUIRE_SERVICES", "") not in ("", "0")


def missing(service: str, reason: str) -> NoReturn:
    """Skip the test (or fail it under the CI flag) because ``service`` is not available."""
    message = f"{service} is not available: {reason}"
    if STRICT:
        pytest.fail(f"{message} (JIRAGUARD_TEST_REQUIRE_SERVICES is set)", pytrace=False)
    pytest.skip(message)
