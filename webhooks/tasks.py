"""Background jobs: load by id, call a service, nothing else."""

from celery import shared_task

from .services import webhooks_deliver


@shared_task
def deliver_webhooks() -> None:
    webhooks_deliver()
