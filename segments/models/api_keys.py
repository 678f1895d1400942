from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiKey(models.Model):
    """A key integrations send in X-API-Key. Only a hash of the secret is stored."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"
        INGEST = "ingest", "Ingest events"

    name = models.CharField(max_length=100)
    scopes = models.JSONField(default=list)
    # A key reads "sk_<prefix>_<secret>": the prefix finds the row, the hash checks it.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (sk_{self.prefix}_…)"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return not self.revoked and (self.expires_at is None or now < self.expires_at)
