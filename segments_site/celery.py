import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segments_site.settings")

app = Celery("segments_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
