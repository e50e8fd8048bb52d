"""Indexes for the admin's "find a customer" (link sessions by end user) and its newest-first
list of validation attempts, built online (``_online.py``)."""

from django.db import migrations, models

from connections.migrations._online import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("connections", "0021_syncs"),
    ]

    operations = [
        AddIndexOnline(
            model_name="linksession",
            index=models.Index(fields=["end_user_id"], name="link_session_end_user"),
        ),
        AddIndexOnline(
            model_name="validationattempt",
            index=models.Index(fields=["-created_at", "-id"], name="attempt_newest"),
        ),
    ]
