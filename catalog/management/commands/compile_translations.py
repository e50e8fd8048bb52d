"""Compile every ``.po`` catalogue into its ``.mo`` (what ``compilemessages`` does, in pure
Python: the install step must not need GNU gettext). Only stale ``.mo`` files are written."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


def catalogues() -> list[Path]:
    roots = [Path(path) for path in settings.LOCALE_PATHS]
    roots += [Path(settings.BASE_DIR) / app / "locale" for app in ("catalog", "connections")]
    return sorted(po for root in roots if root.is_dir() for po in root.glob("*/LC_MESSAGES/*.po"))


class Command(BaseCommand):
    help = "Compile the .po translation catalogues into .mo files (pure Python)."

    def handle(self, *args: Any, **options: Any) -> None:
        for po in catalogues():
            mo = po.with_suffix(".mo")
            if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            partial = mo.with_suffix(".mo.tmp")  # a crash halfway leaves no newer broken .mo
            polib.pofile(str(po)).save_as_mofile(str(partial))
            os.replace(partial, mo)
            self.stdout.write(f"compiled {po.relative_to(settings.BASE_DIR)}")
