"""Every write in the segments app: one function per operation, called by the admin,
the API, CSV imports and background tasks alike."""

from .actors import Actor
from .api_keys import (
    ApiKeyCreated,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
)
from .customers import CustomerUpsertResult, customer_upsert
from .erasure import customer_erase
from .events import (
    EventIngested,
    EventRecordResult,
    EventsIngestResult,
    event_ingest,
    event_record,
    events_ingest,
)
from .memberships import MembersAddResult, MembersRemoveResult, segment_members_add
from .overrides import (
    MembershipState,
    segment_members_remove,
    segment_override_set,
    segment_test_user_add,
    segment_test_user_remove,
)
from .segments import (
    SegmentWithCustomers,
    segment_create,
    segment_create_with_customers,
    segment_delete,
    segment_update,
)

__all__ = [
    "Actor",
    "ApiKeyCreated",
    "CustomerUpsertResult",
    "EventIngested",
    "EventRecordResult",
    "EventsIngestResult",
    "MembersAddResult",
    "MembersRemoveResult",
    "MembershipState",
    "SegmentWithCustomers",
    "api_key_authenticate",
    "api_key_create",
    "api_key_revoke",
    "customer_erase",
    "customer_upsert",
    "event_ingest",
    "event_record",
    "events_ingest",
    "segment_create",
    "segment_create_with_customers",
    "segment_delete",
    "segment_members_add",
    "segment_members_remove",
    "segment_override_set",
    "segment_test_user_add",
    "segment_test_user_remove",
    "segment_update",
]
