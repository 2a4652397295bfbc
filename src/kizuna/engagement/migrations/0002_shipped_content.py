from django.db import migrations


def install(apps, schema_editor):
    from kizuna.engagement import seed

    seed.install(
        {
            name: apps.get_model("engagement", name)
            for name in ("MessageCategory", "EmailTemplate", "EmailTemplateVersion", "InAppMessage")
        }
    )


class Migration(migrations.Migration):
    dependencies = [("engagement", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
