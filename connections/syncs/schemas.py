"""The unified models, version 1: what every system's records become, defined once.

The same classes validate a mapped record before it is stored, shape the partner API's
answers and its OpenAPI, and list the fields the README's tables document. A field a system
does not have stays empty (``null``); the source record is kept beside it (``raw``). Money
and quantities are decimals (strings in JSON), dates ISO 8601, times UTC.

A breaking change to a model is a new version (``PurchaseOrderV2``) beside this one.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

VERSION = "v1"


class Unified(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Address(Unified):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = Field(None, description="ISO 3166-1 alpha-2, as the system has it")


class VendorRef(Unified):
    id: str | None = Field(None, description="The vendor's id in the system (a vendors id)")
    name: str | None = None


class PurchaseOrderStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class PurchaseOrderLine(Unified):
    line_number: int | None = None
    item_code: str | None = None
    description: str | None = None
    quantity: Decimal | None = None
    unit_of_measure: str | None = None
    unit_price: Decimal | None = None
    line_total: Decimal | None = None
    delivery_date: date | None = None


class PurchaseOrder(Unified):
    """A purchase order with its lines (``purchase_orders``)."""

    number: str | None = None
    vendor: VendorRef | None = None
    status: PurchaseOrderStatus | None = None
    currency: str | None = Field(None, description="ISO 4217")
    order_date: date | None = None
    required_date: date | None = None
    delivery_date: date | None = None
    ship_to: Address | None = None
    bill_to: Address | None = None
    payment_terms: str | None = None
    subtotal: Decimal | None = None
    tax_total: Decimal | None = None
    total: Decimal | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    lines: list[PurchaseOrderLine] = Field(default_factory=list)


class VendorStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class Vendor(Unified):
    """A supplier (``vendors``)."""

    name: str | None = None
    status: VendorStatus | None = None
    email: str | None = None
    phone: str | None = None
    currency: str | None = Field(None, description="ISO 4217")
    payment_terms: str | None = None
    tax_id: str | None = None
    address: Address | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class ItemStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class InventoryLevel(Unified):
    location: str | None = Field(None, description="The warehouse or location's code")
    on_hand: Decimal | None = None
    available: Decimal | None = Field(None, description="On hand less what is allocated")
    on_order: Decimal | None = None


class Item(Unified):
    """A product or part (``items``), with its stock per location where the system has it."""

    code: str | None = Field(None, description="SKU or part number")
    name: str | None = None
    description: str | None = None
    status: ItemStatus | None = None
    unit_of_measure: str | None = None
    barcode: str | None = None
    cost: Decimal | None = None
    price: Decimal | None = None
    currency: str | None = Field(None, description="ISO 4217")
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    inventory: list[InventoryLevel] = Field(default_factory=list)


class WorkOrderStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class WorkOrderPriority(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class AssetRef(Unified):
    id: str | None = Field(None, description="The asset's id in the system")
    name: str | None = None


class WorkOrder(Unified):
    """A maintenance job (``work_orders``, from a CMMS)."""

    number: str | None = None
    title: str | None = None
    description: str | None = None
    status: WorkOrderStatus | None = None
    priority: WorkOrderPriority | None = None
    asset: AssetRef | None = None
    assignee: str | None = Field(None, description="The first assignee's id or name")
    due_at: datetime | None = None
    completed_at: datetime | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)


# The list of sub-records a model has, which ``[syncs.<model>.lines]`` maps: its field and
# its schema (a purchase order's lines, an item's stock per location).
LINES: dict[str, tuple[str, type[Unified]]] = {
    "purchase_orders": ("lines", PurchaseOrderLine),
    "items": ("inventory", InventoryLevel),
}


class RecordMeta(BaseModel):
    """What the partner API adds to every record."""

    id: str = Field(description="The record's id in the customer's system")
    deleted: bool = Field(description="Deleted in the system (only with include_deleted)")
    modified_at: datetime | None = Field(description="When the system last changed it")
    changed_at: datetime = Field(description="When Onramp saw that change (modified_after)")
    raw: dict[str, Any] | None = Field(None, description="The system's record, with raw=true")


class PurchaseOrderRecord(RecordMeta, PurchaseOrder):
    pass


class VendorRecord(RecordMeta, Vendor):
    pass


class ItemRecord(RecordMeta, Item):
    pass


class WorkOrderRecord(RecordMeta, WorkOrder):
    pass


class SyncModel(StrEnum):
    """The unified models Onramp syncs, each with its schema and its partner API path."""

    schema: type[Unified]
    record: type[BaseModel]
    path: str

    def __new__(cls, value: str, schema: type[Unified], record: type[BaseModel], path: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.schema = schema
        member.record = record
        member.path = path
        return member

    PURCHASE_ORDERS = "purchase_orders", PurchaseOrder, PurchaseOrderRecord, "purchase-orders"
    VENDORS = "vendors", Vendor, VendorRecord, "vendors"
    ITEMS = "items", Item, ItemRecord, "items"
    WORK_ORDERS = "work_orders", WorkOrder, WorkOrderRecord, "work-orders"
