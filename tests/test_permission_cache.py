"""A person's permissions come from the cache between requests, and any change to groups,
memberships or group permissions is seen on the very next request (accounts/permission_cache.py)."""

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .disputes_helpers import open_dispute
from .factories import StaffFactory


def _dispute_page(order) -> str:
    return reverse("disputes:detail", args=[open_dispute(order).pk])


def test_signed_in_page_does_not_read_permission_tables_again(client, order, arbitrator_user):
    url = _dispute_page(order)
    client.force_login(arbitrator_user)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert not [query["sql"] for query in queries if "auth_permission" in query["sql"]]


def test_arbitrator_taken_out_of_the_group_cannot_open_the_dispute_on_the_next_page(
    client, order, arbitrator_user, django_capture_on_commit_callbacks
):
    url = _dispute_page(order)
    client.force_login(arbitrator_user)
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        arbitrator_user.groups.remove(Group.objects.get(name="arbitrators"))
    assert client.get(url).status_code == 404


def test_group_that_loses_a_permission_loses_it_on_the_next_page(
    client, order, arbitrator_user, django_capture_on_commit_callbacks
):
    url = _dispute_page(order)
    client.force_login(arbitrator_user)
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        Group.objects.get(name="arbitrators").permissions.remove(
            Permission.objects.get(content_type__app_label="disputes", codename="view_dispute")
        )
    assert client.get(url).status_code == 404


def test_staff_member_added_to_the_group_can_open_the_dispute_on_the_next_page(
    client, order, django_capture_on_commit_callbacks
):
    url = _dispute_page(order)
    newcomer = StaffFactory()
    client.force_login(newcomer)
    assert client.get(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        newcomer.groups.add(Group.objects.get(name="arbitrators"))
    assert client.get(url).status_code == 200


def test_permission_given_to_one_person_counts_on_the_next_page(client, order, django_capture_on_commit_callbacks):
    url = _dispute_page(order)
    newcomer = StaffFactory()
    client.force_login(newcomer)
    assert client.get(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        newcomer.user_permissions.add(
            Permission.objects.get(content_type__app_label="disputes", codename="view_dispute")
        )
    assert client.get(url).status_code == 200
