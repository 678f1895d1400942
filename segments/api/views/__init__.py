from .customers import CustomersApi, EventsApi
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
from .segments import SegmentDetailApi, SegmentPreviewApi, SegmentsApi

__all__ = [
    "CustomersApi",
    "EventsApi",
    "ImportCancelApi",
    "ImportDetailApi",
    "ImportIssuesApi",
    "SegmentAddCustomersApi",
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
