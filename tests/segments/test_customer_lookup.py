"""Customers named by the ids an integration sends: the full lookup and the
keys-only one used by bulk writes find the same customers."""

import pytest

from segments.selectors import IdType, customer_keys_by_ids, customers_by_ids
from tests.factories import CustomerFactory


@pytest.mark.parametrize("id_type", list(IdType))
def test_customer_keys_by_ids__any_id_type__same_as_full_lookup(db, id_type):
    # Given customers, named by the id type, in another order, one twice and one
    # matching nobody (emails in another case, internal ids as text)
    customers = CustomerFactory.create_batch(3)
    name = {
        IdType.ID: lambda c: c.external_id,
        IdType.EMAIL: lambda c: c.email.upper(),
        IdType.INTERNAL_ID: lambda c: str(c.pk),
    }[id_type]
    ids = [name(customers[2]), name(customers[0]), "0", name(customers[2])]

    # When both lookups read them
    full = customers_by_ids(ids=ids, id_type=id_type)
    keys = customer_keys_by_ids(ids=ids, id_type=id_type)

    # Then they find the same customers for the same ids, in the order given
    assert list(keys.found) == list(full.found) == [ids[0], ids[1]]
    assert [(k.pk, k.external_id) for k in keys.found.values()] == [
        (c.pk, c.external_id) for c in full.found.values()
    ]
    assert keys.unknown == full.unknown == ["0"]
