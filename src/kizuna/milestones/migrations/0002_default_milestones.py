from django.db import migrations


def install_defaults(apps, schema_editor):  # type: ignore[no-untyped-def]
    from kizuna.milestones.services import install_defaults

    install_defaults(apps.get_model("milestones", "Milestone"))


class Migration(migrations.Migration):
    dependencies = [
        ("milestones", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(install_defaults, migrations.RunPython.noop),
    ]
