"""Roles: what the Marketers group may and may not do in the admin."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from segments.models import Segment
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(client):
    user = UserFactory(username="mia", is_superuser=False)
    user.groups.add(Group.objects.get(name="Marketers"))
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "name",
    [
        "admin:index",
        "admin:segments_segment_changelist",
        "admin:segments_segment_add",
        "admin:segments_membership_changelist",
        "admin:segments_membership_add",
        "admin:segments_customer_changelist",
        "admin:segments_event_changelist",
        "admin:segments_membershipchange_changelist",
        "admin:campaigns_campaign_changelist",
        "admin:campaigns_campaign_add",
        "admin:campaigns_enrollment_add",
    ],
)
def test_marketer__own_pages__open(marketer, name):
    assert marketer.get(reverse(name)).status_code == 200


@pytest.mark.parametrize(
    "name",
    [
        "admin:segments_apikey_changelist",
        "admin:segments_apikey_add",
        "admin:auth_user_changelist",
        "admin:auth_group_changelist",
        "admin:segments_customer_add",
    ],
)
def test_marketer__admin_only_pages__refused(marketer, name):
    assert marketer.get(reverse(name)).status_code == 403


def test_marketer__erase_a_customer__refused(marketer, customer):
    url = reverse("admin:segments_customer_delete", args=[customer.pk])

    assert marketer.post(url, {"post": "yes"}).status_code == 403
    assert type(customer).objects.filter(pk=customer.pk).exists()


def test_marketer__create_a_segment__saved(marketer):
    response = marketer.post(
        reverse("admin:segments_segment_add"),
        {"name": "Spring", "type": "static", "description": "", "trigger_event": ""},
    )

    assert response.status_code == 302
    assert Segment.objects.filter(name="Spring").exists()


def test_marketer__home__no_api_keys_or_users_in_navigation(marketer):
    response = marketer.get(reverse("admin:index"))

    models = {
        m["object_name"] for app in response.context["app_list"] for m in app["models"]
    }
    assert {"Segment", "Campaign", "Customer"} <= models
    assert not models & {"ApiKey", "User", "Group"}


def test_staff_without_group__test_user_form__refused(client, static_segment):
    client.force_login(UserFactory(username="sam", is_superuser=False))
    url = reverse("admin:segments_segment_test_user", args=[static_segment.pk])

    assert client.post(url, {"user": "x@example.com"}).status_code == 403


def test_marketer__api_keys_page__refusal_says_why_and_the_way_back(marketer):
    response = marketer.get(reverse("admin:segments_apikey_changelist"))

    assert response.status_code == 403
    page = response.content.decode()
    assert "You are not allowed to open this page" in page
    assert "signed in as <strong>mia</strong>" in page
    assert f'href="{reverse("admin:index")}"' in page
