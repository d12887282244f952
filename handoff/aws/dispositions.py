"""The dispositions table: every outcome, keyed by month and time for the tuning job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from handoff.aws.dynamo import from_item, storage_errors, to_item
from handoff.domain.record import Disposition, iso


class DispositionRepository:
    def __init__(self, table: Any):
        self._table = table

    def put(self, lead_id: str, disposition: Disposition, *, tier: str | None, source: str) -> None:
        at = iso(disposition.at)
        with storage_errors():
            self._table.put_item(
                Item=to_item(
                    disposition,
                    month=at[:7],
                    at_lead=f"{at}#{lead_id}",
                    lead_id=lead_id,
                    tier=tier or "",
                    source=source,
                )
            )

    def between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Dispositions recorded in [start, end), oldest first."""
        items: list[dict[str, Any]] = []
        month = datetime(start.year, start.month, 1, tzinfo=start.tzinfo)
        while month < end:
            query: dict[str, Any] = {
                "KeyConditionExpression": Key("month").eq(iso(month)[:7])
                & Key("at_lead").between(iso(start), iso(end)),
            }
            with storage_errors():
                while True:
                    page = self._table.query(**query)
                    items += [from_item(i) for i in page.get("Items", [])]
                    if "LastEvaluatedKey" not in page:
                        break
                    query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            month = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=month.tzinfo)
        return items
