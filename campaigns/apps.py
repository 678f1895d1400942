from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from segments.signals import members_entered

        from .services import enroll_entered_members

        members_entered.connect(
            enroll_entered_members, dispatch_uid="campaigns.enroll_entered_members"
        )
