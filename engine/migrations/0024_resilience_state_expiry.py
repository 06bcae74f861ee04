from django.db import migrations, models


class Migration(migrations.Migration):
    """The retention sweep deletes lapsed resilience state by its expiry."""

    dependencies = [
        ("engine", "0023_circuit_breakers"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="resiliencestate",
            index=models.Index(fields=["expires_at"], name="resilience_state_expiry"),
        ),
    ]
