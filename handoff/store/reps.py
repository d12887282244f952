"""The reps table: profiles, pools, capacity and the atomic capacity claim."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handoff.domain.lead import iso
from handoff.domain.route import Rep
from handoff.errors import CapacityExhausted
from handoff.store.dynamo import from_item, storage_errors, to_item


class RepRepository:
    def __init__(self, table: Any):
        self._table = table

    def put(self, rep: Rep) -> None:
        with storage_errors():
            self._table.put_item(Item=to_item(rep))

    def get(self, rep_id: str) -> Rep | None:
        with storage_errors():
            item = self._table.get_item(Key={"rep_id": rep_id}, ConsistentRead=True).get("Item")
        return Rep.model_validate(from_item(item)) if item else None

    def list_all(self) -> list[Rep]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"ConsistentRead": True}
        with storage_errors():
            while True:
                page = self._table.scan(**kwargs)
                items += page.get("Items", [])
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted((Rep.model_validate(from_item(i)) for i in items), key=lambda r: r.rep_id)

    def claim(self, rep_id: str, now: datetime) -> Rep:
        """Take one slot of the rep's capacity in a single conditional write.

        Raises CapacityExhausted when the rep is full or inactive by the time the
        write lands, so concurrent routers cannot over-assign.
        """
        with storage_errors(lambda: CapacityExhausted(rep_id)):
            result = self._table.update_item(
                Key={"rep_id": rep_id},
                UpdateExpression=(
                    "SET open_count = open_count + :one, assigned_total = assigned_total + :one, "
                    "last_assigned_at = :now"
                ),
                ConditionExpression="attribute_exists(rep_id) AND active = :true AND open_count < #capacity",
                # "capacity" is a DynamoDB reserved word.
                ExpressionAttributeNames={"#capacity": "capacity"},
                ExpressionAttributeValues={":one": 1, ":true": True, ":now": iso(now)},
                ReturnValues="ALL_NEW",
            )
        return Rep.model_validate(from_item(result["Attributes"]))

    def release(self, rep_id: str) -> None:
        """Give back one slot. Already at zero is fine: a release is never harmful."""
        try:
            with storage_errors(lambda: CapacityExhausted(rep_id)):
                self._table.update_item(
                    Key={"rep_id": rep_id},
                    UpdateExpression="SET open_count = open_count - :one",
                    ConditionExpression="open_count > :zero",
                    ExpressionAttributeValues={":one": 1, ":zero": 0},
                )
        except CapacityExhausted:
            return
