from django.contrib import admin

from .models import Order, OrderEvent, OrderItem, ProtectionExtension


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0


class ProtectionExtensionInline(admin.TabularInline):
    model = ProtectionExtension
    extra = 0
    readonly_fields = ("days", "reason", "status", "requested_at", "decided_at")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    readonly_fields = ("created_at", "kind", "actor", "details")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "buyer", "store", "status", "total_amount", "currency", "protection_ends_at")
    list_filter = ("status", "currency")
    search_fields = ("number", "buyer__username", "store__name", "tracking_number")
    date_hierarchy = "paid_at"
    raw_id_fields = ("buyer", "store")
    inlines = [OrderItemInline, ProtectionExtensionInline, OrderEventInline]
    list_select_related = ("buyer", "store")
