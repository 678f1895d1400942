"""A change list paginator that does not count big lists exactly.

Django's paginator runs `COUNT(*)` over the whole filtered list for every page; at
a million customers or history rows that is a scan per view. This one counts
exactly up to `EXACT_UP_TO` rows and estimates past it on PostgreSQL (see
`segments.selectors.counts`); the list then reads "about 1,000,000 customers".
"""

import sys
from functools import cached_property

from django.core.paginator import Paginator

from segments.selectors import Estimate, count_estimated


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
