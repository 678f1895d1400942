"""Settings for `bench/api.py`'s app server: the product's own, read from the same
environment, with the URLconf that adds the peers beside the real API."""

from segments_site.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_peers"
