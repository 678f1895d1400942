"""Schemathesis against the app's own OpenAPI schema, on a live server and the test
database: every operation, every check, the examples, coverage, fuzzing and stateful
phases, bounded in examples and time. tests/api/schemathesis.toml says what a schema
cannot say and why. Reproduce by hand: see docs/reliability.md."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from campaigns.services import campaign_create
from segments.models import Segment
from segments.services import Actor, segment_create, segment_members_add
from tests.factories import CustomerFactory
from tests.markers import postgres_pass

from .conftest import ALL_SCOPES, new_key

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("st")
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
SEED = os.environ.get("FUZZ_SEED", "20261201")
TIME_LIMIT = 600  # seconds: a hung run fails instead of holding CI


@pytest.fixture
def world(db):
    """Rows the generated ids can find: fuzzers like 0, 1 and "0"."""
    actor = Actor.system("fuzz")
    customers = [CustomerFactory(external_id=i) for i in ("0", "1", "u1")]
    segment = segment_create(name="Fuzzed", type=Segment.Type.STATIC, actor=actor)
    segment_members_add(segment=segment, customers=customers, actor=actor)
    campaign_create(name="Live", status="active", segments=[segment], actor=actor)


@postgres_pass
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_schemathesis__every_operation_all_checks__no_failures(
    live_server, settings, world, tmp_path, caplog
):
    settings.API_THROTTLE_RATE = ""  # the fuzzer sends thousands of requests
    caplog.set_level(logging.ERROR, logger="django.request")  # 4xx by the thousand
    key = new_key(*ALL_SCOPES, name="schemathesis").key
    command = [
        str(SCHEMATHESIS),
        f"--config-file={CONFIG}",
        "run",
        f"{live_server.url}/api/schema/",
        f"--header=X-API-Key: {key}",
        "--checks=all",
        "--phases=examples,coverage,fuzzing,stateful",
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        "--workers=1",
        "--request-timeout=30",
        f"--report-dir={tmp_path}",
        "--report=ndjson",
    ]

    result = subprocess.run(
        command, capture_output=True, text=True, timeout=TIME_LIMIT, check=False
    )

    summary = result.stdout[result.stdout.rfind("SUMMARY") :]
    print(summary)  # the figures docs/reliability.md quotes (pytest -s)
    assert result.returncode == 0, result.stdout[-20_000:]
