"""Recompute rule segments: those that need it (like the periodic job), or all."""

import time

from django.core.management.base import BaseCommand

from segments.models import Segment
from segments.services.compute import segment_compute_run, segments_refresh_due


class Command(BaseCommand):
    help = (
        "Recompute the rule segments that need it: time-relative rules, failed or "
        "lost computations. --all recomputes every live rule segment."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="Recompute every live rule segment."
        )
        parser.add_argument(
            "--segment", type=int, action="append", help="Recompute this segment id."
        )

    def handle(self, *args, all=False, segment=None, **options):
        if not (all or segment):
            ids = segments_refresh_due()
            self.stdout.write(f"Refreshed {len(ids)} segment(s) that needed it.")
            return
        segments = Segment.objects.filter(type=Segment.Type.RULE, archived=False)
        if segment:
            segments = segments.filter(pk__in=segment)
        segments = list(segments.order_by("pk"))
        for number, item in enumerate(segments, start=1):
            started = time.monotonic()
            result = segment_compute_run(segment_id=item.pk)
            took = time.monotonic() - started
            outcome = (
                f"+{result.entered} -{result.left}"
                if result
                else "FAILED: " + Segment.objects.get(pk=item.pk).compute_error
            )
            self.stdout.write(
                f"[{number}/{len(segments)}] {item.name}: {outcome} ({took:.1f}s)"
            )
