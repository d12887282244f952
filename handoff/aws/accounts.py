"""The accounts table: known accounts ops load (company domain -> owner), for ownership routing."""

from __future__ import annotations

from typing import Any

from handoff.aws.dynamo import from_item, storage_errors, to_item
from handoff.domain.account import Account, normalise_domain


class AccountRepository:
    def __init__(self, table: Any):
        self._table = table

    def put(self, account: Account) -> None:
        with storage_errors():
            self._table.put_item(Item=to_item(account, domain=normalise_domain(account.domain)))

    def owner_for(self, *domains: str | None) -> str | None:
        """The owner of the first known domain (company domain, then email domain). Each domain is
        read once: a contact's email is usually at the company's own domain."""
        for domain in dict.fromkeys(filter(None, map(normalise_domain, domains))):
            with storage_errors():
                item = self._table.get_item(Key={"domain": domain}).get("Item")
            if item:
                return str(from_item(item)["owner"])
        return None
