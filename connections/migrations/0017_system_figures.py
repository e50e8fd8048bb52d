import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_system_request_once"),
        ("connections", "0016_scale_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="SystemFigures",
            fields=[
                (
                    "system",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="figures",
                        serialize=False,
                        to="catalog.system",
                        to_field="slug",
                    ),
                ),
                ("connections", models.PositiveIntegerField(default=0)),
                ("sessions_chose", models.PositiveIntegerField(default=0)),
                ("sessions_connected", models.PositiveIntegerField(default=0)),
                ("failures", models.JSONField(default=list)),
                ("counted_at", models.DateTimeField()),
            ],
            options={"verbose_name_plural": "system figures"},
        ),
    ]
