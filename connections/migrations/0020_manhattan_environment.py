"""Manhattan Active WM now takes the address the customer opens (``environment``, e.g.
``acme.sce.manh.com``) instead of an environment id pinned to ``omni.manh.com``. Connections
made before keep reaching the host they were checked against: ``unique_id`` becomes
``<unique_id>.omni.manh.com``."""

from django.db import migrations

SLUG = "manhattan-active-wm"


def to_environment(apps, schema_editor):
    Connection = apps.get_model("connections", "Connection")
    for connection in Connection.objects.filter(system_id=SLUG, config__has_key="unique_id"):
        config = dict(connection.config)
        config["environment"] = f"{config.pop('unique_id')}.omni.manh.com"
        Connection.objects.filter(pk=connection.pk).update(config=config)


def to_unique_id(apps, schema_editor):
    Connection = apps.get_model("connections", "Connection")
    for connection in Connection.objects.filter(system_id=SLUG, config__has_key="environment"):
        config = dict(connection.config)
        config["unique_id"] = config.pop("environment").split(".", 1)[0]
        Connection.objects.filter(pk=connection.pk).update(config=config)


class Migration(migrations.Migration):
    dependencies = [("connections", "0019_partner_lead_text_translations")]

    operations = [migrations.RunPython(to_environment, to_unique_id)]
