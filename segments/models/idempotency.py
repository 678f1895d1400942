from django.db import models

from .api_keys import ApiKey


class IdempotentRequest(models.Model):
    """The first answer to a write sent with an Idempotency-Key, replayed to retries.

    One row per (API key, Idempotency-Key): the unique constraint makes a concurrent
    duplicate wait for the first request and then replay its answer.
    """

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    # SHA-256 of the path and query: a path may name a customer.
    path = models.CharField(max_length=2000)
    # SHA-256 of the request body: the same key with another body is refused.
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    response_body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "key"], name="idempotent_request_one_per_key"
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotent_created_at")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
