"""The Marketers group: segments, members, campaigns and member imports to work
with; customers, events and the history to read. No API keys, no users or groups, no erasure
(deleting a customer). Admins (superusers) have everything."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Marketers"
PERMISSIONS = {
    "segments": {
        "segment": ("view", "add", "change", "delete"),
        "membership": ("view", "add", "change", "delete"),
        "condition": ("view",),
        "customer": ("view",),
        "event": ("view",),
        "membershipchange": ("view",),
        "importjob": ("view", "add", "change"),
        "importissue": ("view",),
    },
    "campaigns": {
        "campaign": ("view", "add", "change"),
        "enrollment": ("view", "add", "change"),
    },
}


def _codenames():
    for app, models in PERMISSIONS.items():
        for model, actions in models.items():
            for action in actions:
                yield app, f"{action}_{model}"


def add_group(apps, schema_editor):
    # Permissions are made after migrations; a new database needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app, codename in _codenames():
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("segments", "0004_imports"),
        ("campaigns", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_group, remove_group)]
