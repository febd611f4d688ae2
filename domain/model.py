"""The words of the domain as types: states, roles, coverage, tasks, actors."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    INFO_REQUESTED = "info_requested"
    ISSUED = "issued"
    DELIVERED = "delivered"
    USED = "used"
    EXPIRED = "expired"
    VOIDED = "voided"
    REPLACED = "replaced"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    # Ended by an administrator (a workflow that could not go on); no command is taken.
    TERMINATED = "terminated"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset(
    {
        Status.USED,
        Status.EXPIRED,
        Status.VOIDED,
        Status.REPLACED,
        Status.REJECTED,
        Status.WITHDRAWN,
        Status.TERMINATED,
    }
)


class Role(StrEnum):
    EXPORTER = "exporter"
    CERTIFIER = "certifier"
    IMPORTER = "importer"
    ADMIN = "admin"
    SYSTEM = "system"


class Coverage(StrEnum):
    SINGLE_SHIPMENT = "single_shipment"
    MULTIPLE_SHIPMENTS = "multiple_shipments"
    TIME_FRAME = "time_frame"


class OrganicCategory(StrEnum):
    HUNDRED_PERCENT = "100_percent_organic"
    ORGANIC = "organic"
    MADE_WITH = "made_with_organic"


class TaskKind(StrEnum):
    REVIEW = "review"
    RECONCILE = "reconcile"


class TaskState(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    CLOSED = "closed"


class Awaiting(StrEnum):
    """Whose move it is: shown to operators as the `AwaitingActor` search attribute."""

    SYSTEM = "system"
    CERTIFIER = "certifier"
    EXPORTER = "exporter"
    IMPORTER = "importer"
    NONE = "none"


class Reconciliation(StrEnum):
    """R8: where the exporter's report of actual net weights stands."""

    REQUESTED = "requested"
    REPORTED = "reported"
    CONFIRMED = "confirmed"
    MISSING = "missing"


class OrganisationKind(StrEnum):
    CERTIFIER = "certifier"
    OPERATION = "operation"


class OperationStatus(StrEnum):
    CERTIFIED = "certified"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    SURRENDERED = "surrendered"


@dataclass(frozen=True)
class Actor:
    """Who does something: a person with a role in an organisation, or the system itself."""

    user_id: str
    role: Role
    organisation_id: str | None

    @classmethod
    def system(cls) -> Actor:
        return cls(user_id="system", role=Role.SYSTEM, organisation_id=None)
