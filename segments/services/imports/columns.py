"""Which column names the customers, and what the other columns say about them."""

import json
import re
from dataclasses import dataclass

from segments.selectors import IdType
from segments.selectors.exports import FORMULA_STARTS

from .reader import refuse

MAX_ID_LENGTH = 255
# Header names that hold each id type, most specific first (compared normalized).
ID_HEADERS = {
    IdType.ID: (
        "external_id",
        "user_id",
        "customer_id",
        "id",
        "userid",
        "customerid",
        "externalid",
        "uid",
        "distinct_id",
    ),
    IdType.EMAIL: ("email", "e_mail", "email_address", "mail"),
    IdType.INTERNAL_ID: ("internal_id", "pk"),
}
PROFILE_FIELDS = ("email", "phone", "first_name", "last_name")
# What an export writes about the membership: not the customer's to update.
MEMBERSHIP_COLUMNS = {"source", "override", "is_test", "test", "joined_at"}


def normalize(header: str) -> str:
    return re.sub(r"[\s\-.]+", "_", header.strip().lower())


def unquote(value: str) -> str:
    """A cell our export neutralized ('=1+1) reads back as it was (=1+1)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


@dataclass(frozen=True)
class Columns:
    """Where the id is, how it names customers, and the profile columns."""

    id_index: int
    id_type: str
    width: int
    # column index -> customer field ("email", ...) or "attributes.<name>"
    profile: dict[int, str]

    def key(self, cells: list[str]) -> str:
        """The row's id, as customers are looked up; raises ValueError if invalid."""
        value = unquote(cells[self.id_index].strip())
        if not value:
            raise ValueError("The id is empty.")
        if len(value) > MAX_ID_LENGTH:
            raise ValueError(f"The id is longer than {MAX_ID_LENGTH} characters.")
        if self.id_type == IdType.EMAIL:
            if "@" not in value:
                raise ValueError(f"{value!r} is not an email address.")
            return value.lower()
        if self.id_type == IdType.INTERNAL_ID:
            if not value.isdigit() or len(value) > 18:
                raise ValueError(f"{value!r} is not an internal id (a whole number).")
            return str(int(value))
        return value

    def data(self, cells: list[str]) -> str:
        """The row's profile columns as JSON ("" when it has none to set)."""
        values = {
            name: unquote(cells[index].strip())
            for index, name in self.profile.items()
            if cells[index].strip()
        }
        return json.dumps(values) if values else ""


def find_columns(
    header: list[str], *, id_type: str | None, id_column: str = ""
) -> Columns:
    """The id column chosen by name, or found among the usual headers."""
    if any(len(h) > MAX_ID_LENGTH for h in header):
        raise refuse(
            f"A header is longer than {MAX_ID_LENGTH} characters: the first row must "
            "name the columns."
        )
    names = [normalize(h) for h in header]
    duplicated = sorted({h for h in names if h and names.count(h) > 1})
    if duplicated:
        raise refuse(f'The header names the column "{duplicated[0]}" more than once.')
    if id_column:
        index = _index(names, [normalize(id_column)], header, asked=id_column)
        return _columns(names, index, id_type or IdType.ID)
    for kind in [id_type] if id_type else list(ID_HEADERS):
        found = [name for name in ID_HEADERS[IdType(kind)] if name in names]
        if found:
            return _columns(names, names.index(found[0]), kind)
    return _columns(names, _index(names, [], header, asked=""), id_type or "")


def _index(names: list[str], wanted: list[str], header: list[str], asked: str) -> int:
    for name in wanted:
        if name in names:
            return names.index(name)
    shown = ", ".join(f'"{h}"' for h in header) or "none"
    expected = (
        asked and f'"{asked}"'
    ) or "id, user_id, external_id, customer_id or email"
    hint = (
        " Columns must be separated by commas, semicolons, tabs or |."
        if len(header) == 1
        else ""
    )
    raise refuse(f"No id column ({expected}) in the header; found: {shown}.{hint}")


def _columns(names: list[str], id_index: int, id_type: str) -> Columns:
    profile = {}
    for index, name in enumerate(names):
        if index == id_index or not name or name in MEMBERSHIP_COLUMNS:
            continue
        other_id = any(name in headers for headers in ID_HEADERS.values())
        if other_id and name not in PROFILE_FIELDS:
            continue  # another id of the same customer
        profile[index] = name if name in PROFILE_FIELDS else f"attributes.{name}"
    return Columns(
        id_index=id_index, id_type=id_type, width=len(names), profile=profile
    )
