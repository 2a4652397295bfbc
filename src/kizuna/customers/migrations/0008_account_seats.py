from django.db import migrations, models
from django.db.models import OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce


def from_contracts(apps, schema_editor):  # type: ignore[no-untyped-def]
    Account = apps.get_model("customers", "Account")
    Subscription = apps.get_model("customers", "Subscription")
    seats = (
        Subscription.objects.filter(account=OuterRef("pk"), status__in=["trial", "active"])
        .order_by()
        .values("account")
        .annotate(total=Sum("seats"))
        .values("total")
    )
    Account.objects.update(
        seats=Coalesce(Subquery(seats), Value(0), output_field=models.IntegerField())
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_tier_rules_and_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="seats",
            field=models.PositiveIntegerField(
                db_default=0, default=0, verbose_name="licensed seats"
            ),
        ),
        migrations.RunPython(from_contracts, migrations.RunPython.noop),
    ]
