"""Indexes for lists that page newest first by (created_at, id): the partner API's
connections (keyset pagination, per partner and mode) and deliveries, and the admin's
connections, link sessions and deliveries.

Built with CREATE INDEX CONCURRENTLY on PostgreSQL, so writes to these tables go on while
each index builds (a plain CREATE INDEX blocks them for as long as the build takes: seconds
at a million rows). That cannot run in a transaction, hence ``atomic = False``; elsewhere
(SQLite, the embedded default) it is a plain CREATE INDEX. Stopped midway, it can simply be
run again: an index already built is kept, one left invalid is dropped and built anew.
"""

from django.db import migrations, models

from connections.migrations._online import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("connections", "0014_webhook_claims_held_sequence"),
    ]

    operations = [
        AddIndexOnline(
            model_name="connection",
            index=models.Index(
                fields=["partner", "mode", "-created_at", "-id"], name="connection_partner_page"
            ),
        ),
        AddIndexOnline(
            model_name="connection",
            index=models.Index(fields=["-created_at", "-id"], name="connection_newest"),
        ),
        AddIndexOnline(
            model_name="linksession",
            index=models.Index(fields=["-created_at", "-id"], name="link_session_newest"),
        ),
        AddIndexOnline(
            model_name="webhookdelivery",
            index=models.Index(fields=["-created_at", "-id"], name="delivery_newest"),
        ),
    ]
