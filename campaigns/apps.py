from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from segments.services.outcomes import outcome_reader_register
        from segments.signals import members_entered

        from .selectors import active_enrollments_of
        from .services import enroll_entered_members

        # Answers that say what an event changed list the campaigns entered.
        outcome_reader_register("campaigns", active_enrollments_of)

        members_entered.connect(
            enroll_entered_members, dispatch_uid="campaigns.enroll_entered_members"
        )
