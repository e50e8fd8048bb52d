"""Settings for benchmark servers: the test settings plus two bare views to compare with."""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
# As in production: a process keeps answering from its index while it loads a new one.
ONRAMP_CATALOG_REBUILD_BEHIND = True
