"""Partner API for synced data, with a connection's access token: ``/purchase-orders``,
``/vendors`` (a change feed, and one record by its id), and ``/syncs`` (states; start one).

The list's cursor is a position in Onramp's own change sequence for that connection and
model: a record changed while the partner pages moves behind the cursor and comes again as
the change it is; nothing is skipped or repeated. Cursors are signed per connection and model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from connections.api.auth import ConnectionTokenAuth
from connections.errors import OnrampError
from connections.models import Connection
from connections.syncs.runs import sync_request
from connections.syncs.schemas import SyncModel
from connections.syncs.selectors import (
    feed_json,
    record_get,
    record_shape,
    records_page,
    sync_overview,
)

router = Router(tags=["syncs"], auth=ConnectionTokenAuth())


class RecordFilters(Schema):
    modified_after: datetime | None = Field(
        None, description="Only records Onramp saw change after this time"
    )
    cursor: str | None = Field(None, max_length=200)
    page_size: int = Field(100, ge=1, le=500)
    include_deleted: bool = False
    raw: bool = Field(False, description="Add each record as the system gave it")


class SyncIn(Schema):
    model: Literal[tuple(m.value for m in SyncModel)]  # type: ignore[valid-type]
    mode: Literal["incremental", "full"] = "incremental"


def _salt(connection: Connection, model: SyncModel) -> str:
    return f"onramp.api.sync-cursor.{connection.pk}.{model.value}"


def _after(cursor: str | None, connection: Connection, model: SyncModel) -> int:
    if not cursor:
        return 0
    try:
        return int(signing.loads(cursor, salt=_salt(connection, model)))
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise OnrampError(
            "invalid_cursor",
            "This cursor is not one of this list's: pass back next_cursor unchanged.",
            400,
        ) from exc


def _register(model: SyncModel) -> None:
    page_schema = type(
        f"{model.record.__name__}Page",
        (Schema,),
        {
            "__annotations__": {"data": list[model.record], "next_cursor": str | None},
        },
    )

    def list_records(request: HttpRequest, filters: Query[RecordFilters]) -> HttpResponse:
        connection = request.auth
        rows, more = records_page(
            connection=connection,
            model=model.value,
            after_seq=_after(filters.cursor, connection, model),
            modified_after=filters.modified_after,
            include_deleted=filters.include_deleted,
            size=filters.page_size,
            raw=filters.raw,
        )
        salt = _salt(connection, model)
        following = signing.dumps(rows[-1].change_seq, salt=salt) if more else None
        # Already in the schema's shape (validated when written): sent as stored, since
        # decoding, validating and re-encoding 500 records would cost more than reading them.
        return HttpResponse(feed_json(rows, following), content_type="application/json")

    def get_record(request: HttpRequest, record_id: str, raw: bool = False) -> dict[str, Any]:
        row = record_get(connection=request.auth, model=model.value, remote_id=record_id)
        if row is None:
            raise Http404(f"No {model.value} record with this id.")
        return record_shape(row, raw=raw)

    plural = model.value.replace("_", " ")
    router.add_api_operation(
        f"/{model.path}",
        ["GET"],
        list_records,
        response=page_schema,
        operation_id=f"list_{model.value}",
        summary=f"List synced {plural}",
        description=f"The connection's {plural}, oldest change first; pass `next_cursor` "
        "back as `cursor` for the next page (null: none now).",
    )
    router.add_api_operation(
        f"/{model.path}/{{record_id}}",
        ["GET"],
        get_record,
        response=model.record,
        operation_id=f"get_{model.value}",
        summary=f"Get one synced {plural[:-1]} by its id in the system",
    )


for _model in SyncModel:
    _register(_model)


@router.get("/syncs", summary="The connection's syncs")
def list_syncs(request: HttpRequest) -> dict[str, Any]:
    """Per model: status, last successful sync (pass it as `modified_after`), next run, the
    last run's counts and record errors, and the last error."""
    return {"data": sync_overview(connection=request.auth)}


@router.post("/syncs", response={202: dict}, summary="Start a sync")
def start_sync(request: HttpRequest, body: SyncIn) -> Status:
    """Start a sync of one model now (`incremental`, or `full`: the whole history window
    again). 409 `sync_running` while one runs."""
    sync_request(
        connection=request.auth,
        model=SyncModel(body.model),
        full=body.mode == "full",
        actor=f"connection:{request.auth.pk}",
    )
    overview = sync_overview(connection=request.auth)
    return Status(202, next(item for item in overview if item["model"] == body.model))
