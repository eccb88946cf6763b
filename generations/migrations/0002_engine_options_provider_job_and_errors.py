import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("generations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="generation",
            name="engine_options",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="generation",
            name="provider_job_id",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.CreateModel(
            name="EngineProviderError",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("engine", models.CharField(max_length=50)),
                ("model_id", models.CharField(blank=True, default="", max_length=200)),
                ("code", models.CharField(max_length=50)),
                ("message", models.CharField(max_length=500)),
                ("retryable", models.BooleanField(default=False)),
                ("occurred_at", models.DateTimeField()),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="engine_provider_errors",
                        to="accounts.account",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("account", "engine"), name="engine_provider_error_one_per_engine")
                ],
            },
        ),
    ]
