# The deletion queue moves from the customers app to the platform: state only, the table stays where it is.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tryon_project", "0001_initial"),
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="BlobDeletion",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("storage_key", models.CharField(max_length=300, unique=True)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("last_error", models.CharField(blank=True, default="", max_length=200)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={"db_table": "customers_blobdeletion"},
                ),
            ],
            database_operations=[],
        ),
    ]
