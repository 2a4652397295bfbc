from django.db import migrations


def create_default_rules(apps, schema_editor):  # type: ignore[no-untyped-def]
    from kizuna.lifecycle.services import ensure_default_rules

    ensure_default_rules(apps.get_model("lifecycle", "StageRule"))


class Migration(migrations.Migration):
    dependencies = [
        ("lifecycle", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_default_rules, migrations.RunPython.noop),
    ]
