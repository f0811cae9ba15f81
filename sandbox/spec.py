"""What a resource looks like on the wire: the single source for the catalog and the faults."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Vendor:
    """A vendor convention shared by one or more subsystems."""

    name: str
    auth: str
    pagination: str
    since_param: str
    until_param: str
    null: str  # how a missing value is written: "" | null | absent
    case: str  # key style, decides the name of the schema-drift field


DRIFT_FIELD = {"lower": "kzzd1", "upper": "KZZD1", "camel": "extField1", "pascal": "ExtField1"}
DRIFT_FIELD["snake"] = "ext_field1"


@dataclass(frozen=True)
class Spec:
    subsystem: str
    resource: str
    path: str
    key: tuple[str, ...]
    cursor: str
    cursor_format: str
    fields: tuple[str, ...]
    required: tuple[str, ...]
    method: str = "GET"
    money_unit: str | None = None
    # fault targets: field -> value that breaks it
    codes: dict[str, str] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)
    id_fields: tuple[str, ...] = ()
    text_fields: tuple[str, ...] = ()
    full_refresh: bool = False  # served whole; the truth window is ignored
    key_in_record: bool = True  # False for DingTalk instances, whose id is not in the body
    filters: tuple[str, ...] = ()  # extra equality filters accepted by the list endpoint
    stamp: bool = True  # the cursor is the record's update time, written from the event time

    @property
    def name(self) -> tuple[str, str]:
        return (self.subsystem, self.resource)


def catalog_entry(spec: Spec, vendor: Vendor) -> dict:
    return {
        "path": spec.path,
        "method": spec.method,
        "primary_key": list(spec.key),
        "cursor_field": None if spec.full_refresh else spec.cursor,
        "cursor_format": None if spec.full_refresh else spec.cursor_format,
        "money_unit": spec.money_unit,
        "pagination": vendor.pagination,
        "incremental_params": (
            None
            if spec.full_refresh
            else {"since": vendor.since_param, "until": vendor.until_param}
        ),
        "null_style": vendor.null,
        "auth": vendor.auth,
        "required": list(spec.required),
        "fields": list(spec.fields),
        "filters": list(spec.filters),
        "full_refresh": spec.full_refresh,
    }
