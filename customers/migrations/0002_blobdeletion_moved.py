# The deletion queue now belongs to the platform (tryon_project.BlobDeletion, same table): state only.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("tryon_project", "0002_blobdeletion"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="BlobDeletion")],
            database_operations=[],
        ),
    ]
