"""The event table's time index: BRIN on PostgreSQL (tiny, cheap to maintain on an
append-mostly table whose rows arrive roughly in time order), a B-tree on SQLite."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX usage_event_time ON usage_event USING brin (timestamp) "
            "WITH (pages_per_range = 32)"
        )
    else:
        schema_editor.execute("CREATE INDEX usage_event_time ON usage_event (timestamp)")


def drop(apps, schema_editor):
    schema_editor.execute("DROP INDEX usage_event_time")


class Migration(migrations.Migration):
    dependencies = [("usage", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
