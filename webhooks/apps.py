from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.signals import enrollments_changed
        from segments.signals import members_changed

        from .services import webhook_enrollments_changed, webhook_members_changed

        members_changed.connect(
            webhook_members_changed, dispatch_uid="webhooks.members_changed"
        )
        enrollments_changed.connect(
            webhook_enrollments_changed, dispatch_uid="webhooks.enrollments_changed"
        )
