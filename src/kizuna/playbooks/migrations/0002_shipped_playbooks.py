from django.db import migrations


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    from kizuna.playbooks.services import install_library

    install_library(apps.get_model("playbooks", "Playbook"))


class Migration(migrations.Migration):
    dependencies = [
        ("playbooks", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
