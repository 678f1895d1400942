from .backfill import SegmentBackfillApi
from .customers import CustomersApi
from .events import EventsApi, EventsBatchApi
from .members import (
    SegmentAddCustomersApi,
    SegmentHistoryApi,
    SegmentMemberDetailApi,
    SegmentMembersApi,
    SegmentRemoveCustomersApi,
    SegmentStatsApi,
    SegmentStatusApi,
)
from .messages import MessagesApi
from .segments import SegmentDetailApi, SegmentPreviewApi, SegmentsApi

__all__ = [
    "CustomersApi",
    "EventsApi",
    "EventsBatchApi",
    "MessagesApi",
    "SegmentAddCustomersApi",
    "SegmentBackfillApi",
    "SegmentDetailApi",
    "SegmentHistoryApi",
    "SegmentMemberDetailApi",
    "SegmentMembersApi",
    "SegmentPreviewApi",
    "SegmentRemoveCustomersApi",
    "SegmentStatsApi",
    "SegmentStatusApi",
    "SegmentsApi",
]
