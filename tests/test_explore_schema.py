"""Property-based requests generated from the explorer's own OpenAPI schema
(schemathesis): no answer is a server error, none hangs."""

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from behavstats.explore.app import create_app
from behavstats.explore.engine import Engine

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]
SECONDS_PER_REQUEST = 20


@pytest.fixture(scope="module")
def explore_schema(make_policy):
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(Engine(make_policy(0))))


schema = schemathesis.pytest.from_fixture("explore_schema")


def _settings(examples: int):
    return settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck))


def _call(case) -> None:
    began = time.monotonic()
    response = case.call()
    assert response.status_code < 500, response.text
    assert time.monotonic() - began < SECONDS_PER_REQUEST


@schema.exclude(path="/api/episode").parametrize()
@_settings(30)
def test_no_server_errors_and_no_hangs(case):
    _call(case)


@schema.include(path="/api/episode").parametrize()
@_settings(4)  # an episode runs up to 500 steps: fewer examples bound the time
def test_episodes_no_server_errors_and_no_hangs(case):
    _call(case)
