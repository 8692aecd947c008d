"""A dispute is about one item of its order (each item at most one dispute), bounded by what was
paid for that item. Disputes opened before were about the whole order: each is linked to the
order's first item and keeps the whole total as its bound (what its parties negotiated against),
and its refund row is linked to the same item."""

import django.db.models.deletion
from django.db import migrations, models


def disputes_link_first_item(apps, schema_editor):
    Dispute = apps.get_model("disputes", "Dispute")
    OrderItem = apps.get_model("orders", "OrderItem")
    Refund = apps.get_model("orders", "Refund")
    for dispute in Dispute.objects.filter(item__isnull=True).select_related("order").iterator():
        first = OrderItem.objects.filter(order_id=dispute.order_id).order_by("pk").first()
        dispute.item = first
        dispute.paid_amount = dispute.order.total_amount
        dispute.save(update_fields=["item", "paid_amount"])
        if first is not None:
            Refund.objects.filter(order_id=dispute.order_id, purpose="dispute", item__isnull=True).update(item=first)


def disputes_unlink_items(apps, schema_editor):
    Refund = apps.get_model("orders", "Refund")
    Refund.objects.filter(purpose="dispute").update(item=None)


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0020_policy_recommendations"),
        ("orders", "0019_refund_item"),
    ]

    operations = [
        migrations.AddField(
            model_name="dispute",
            name="item",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="dispute",
                to="orders.orderitem",
                verbose_name="товар",
            ),
        ),
        migrations.AddField(
            model_name="dispute",
            name="paid_amount",
            field=models.DecimalField(decimal_places=2, max_digits=12, null=True, verbose_name="оплачено за товар"),
        ),
        migrations.RunPython(disputes_link_first_item, disputes_unlink_items),
        migrations.AlterField(
            model_name="dispute",
            name="paid_amount",
            field=models.DecimalField(decimal_places=2, max_digits=12, verbose_name="оплачено за товар"),
        ),
        migrations.AlterField(
            model_name="dispute",
            name="order",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="disputes",
                to="orders.order",
                verbose_name="заказ",
            ),
        ),
        migrations.AddConstraint(
            model_name="dispute",
            constraint=models.UniqueConstraint(
                condition=models.Q(("item__isnull", True)),
                fields=("order",),
                name="one_dispute_per_order_without_items",
            ),
        ),
    ]
