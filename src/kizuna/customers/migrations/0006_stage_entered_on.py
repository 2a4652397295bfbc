import django.utils.timezone
from django.db import migrations, models
from django.db.models.functions import TruncDate


def from_created(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Without a history, an account has been in its stage since it was created.
    Account = apps.get_model("customers", "Account")
    Account.objects.update(stage_entered_on=TruncDate("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_portfolio_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="stage_entered_on",
            field=models.DateField(
                default=django.utils.timezone.localdate, verbose_name="in stage since"
            ),
        ),
        migrations.RunPython(from_created, migrations.RunPython.noop),
    ]
