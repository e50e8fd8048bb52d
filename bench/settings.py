"""Settings for benchmark servers: the test settings plus two bare views to compare with."""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
