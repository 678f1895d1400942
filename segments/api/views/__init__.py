from .customers import CustomersApi, EventsApi
from .members import (
    SegmentAddCustomersApi,
    SegmentHistoryApi,
    SegmentMemberDetailApi,
    SegmentMembersApi,
    SegmentRemoveCustomersApi,
    SegmentStatsApi,
    SegmentStatusApi,
)
from .segments import SegmentDetailApi, SegmentPreviewApi, SegmentsApi

__all__ = [
    "CustomersApi",
    "EventsApi",
    "SegmentAddCustomersApi",
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
