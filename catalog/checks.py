"""A system check so a broken definition stops ``runserver``/``migrate``, not a user."""

from typing import Any

from django.core import checks

from catalog.registry import SYSTEMS_DIR, load_file
from catalog.schema import DefinitionError


@checks.register()
def check_definitions(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors = []
    for path in sorted(SYSTEMS_DIR.glob("*.toml")):
        try:
            load_file(path)
        except DefinitionError as exc:
            errors.append(checks.Error(str(exc), id="catalog.E001"))
    return errors
