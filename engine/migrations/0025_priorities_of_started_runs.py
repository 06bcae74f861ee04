import django.core.validators
from django.db import migrations, models


def priority_field() -> models.SmallIntegerField:  # type: ignore[type-arg]
    return models.SmallIntegerField(
        default=0,
        help_text="The priority of the runs it starts, from -100 (last) to 100 (first): it "
        "orders them behind a workflow cap and at bulkheads.",
        validators=[
            django.core.validators.MinValueValidator(-100),
            django.core.validators.MaxValueValidator(100),
        ],
    )


class Migration(migrations.Migration):
    """Schedules, event triggers, debounced starts and webhook endpoints give their runs a
    priority."""

    dependencies = [
        ("engine", "0024_resilience_state_expiry"),
    ]

    operations = [
        migrations.AddField(model_name=model, name="priority", field=priority_field())
        for model in ("debounceslot", "eventtrigger", "schedule", "webhookendpoint")
    ]
