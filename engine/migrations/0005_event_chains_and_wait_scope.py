# Event chains (depth), wait filters that read the run's scope, runs found by trigger reference.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("engine", "0004_schedules_triggers_webhooks"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="depth",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="wait",
            name="filter_scope",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="run",
            index=models.Index(
                condition=models.Q(("trigger_ref", ""), _negated=True),
                fields=["trigger", "trigger_ref"],
                name="run_by_trigger_ref",
            ),
        ),
    ]
