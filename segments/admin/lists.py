"""What the big change lists share: a paginator that does not count them exactly,
and a search for one customer's rows through an index.

Django's paginator runs `COUNT(*)` over the whole filtered list for every page; at
a million customers or history rows that is a scan per view. This one counts
exactly up to `EXACT_UP_TO` rows and estimates past it on PostgreSQL (see
`segments.selectors.counts`); the list then reads "about 1,000,000 customers".
"""

import sys
from functools import cached_property

from django.core.paginator import Paginator

from segments.selectors import Estimate, count_estimated, customers_named


class EstimatingPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        return count_estimated(self.object_list)

    @property
    def estimated(self) -> bool:
        return isinstance(self.count, Estimate)

    def validate_number(self, number):
        if not self.estimated:
            return super().validate_number(number)
        # The estimate may fall short of the real last page: any page number is
        # served, and one past the end is empty rather than an error.
        return self._validate_number(number, sys.maxsize)

    def page(self, number):
        if not self.estimated:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(
            self.object_list[bottom : bottom + self.per_page], number, self
        )


class CustomerRowsSearch:
    """A list of rows with a customer (members, history, events) searched by that
    customer's exact external id, email or internal id: index lookups, where
    Django's `=customer__external_id` compares UPPER() of every customer's id."""

    search_fields = ("customer__external_id", "customer__email")  # shows the box
    search_help_text = "A customer's external id or email."

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(customer__in=customers_named(term=search_term)), False
