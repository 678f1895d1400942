from .backfill import SegmentBackfillApi
from .customers import CustomersApi
from .events import EventsApi, EventsBatchApi
from .imports import (
    ImportCancelApi,
    ImportDetailApi,
    ImportIssuesApi,
    SegmentExportApi,
    SegmentImportsApi,
)
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
    "ImportCancelApi",
    "ImportDetailApi",
    "ImportIssuesApi",
    "MessagesApi",
    "SegmentAddCustomersApi",
    "SegmentBackfillApi",
    "SegmentDetailApi",
    "SegmentExportApi",
    "SegmentHistoryApi",
    "SegmentImportsApi",
    "SegmentMemberDetailApi",
    "SegmentMembersApi",
    "SegmentPreviewApi",
    "SegmentRemoveCustomersApi",
    "SegmentStatsApi",
    "SegmentStatusApi",
    "SegmentsApi",
]
