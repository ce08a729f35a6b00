"""Every table, imported here so that `Base.metadata` (and Alembic) sees them all."""

from app.models.api_client import SCOPES, ApiClient, ApiKey, Grant
from app.models.assessment import (
    Answer,
    Assessment,
    AssessmentKpi,
    IdempotencyRecord,
    QuestionnaireRecord,
    Result,
)
from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.contact import Contact
from app.models.enterprise import Enterprise
from app.models.heatmap import (
    HeatmapCell,
    HeatmapContribution,
    HeatmapPublication,
    HeatmapPublishedTable,
    HeatmapStageCell,
)
from app.models.integrator import (
    WEBHOOK_EVENTS,
    Counter,
    FeedEntry,
    IntegratorNotice,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.models.mail import MailMessage
from app.models.report import ReportJob, ReportPdf
from app.models.schedule import PeriodicRun
from app.models.user import (
    FIRM_ROLES,
    ROLES,
    AccessClaim,
    AuthAttempt,
    Invitation,
    PasswordReset,
    User,
    WebSession,
)

__all__ = [
    "FIRM_ROLES",
    "ROLES",
    "AccessClaim",
    "AuthAttempt",
    "SCOPES",
    "Answer",
    "ApiClient",
    "ApiKey",
    "Assessment",
    "AssessmentKpi",
    "AuditEvent",
    "Counter",
    "Base",
    "Contact",
    "Enterprise",
    "FeedEntry",
    "Grant",
    "HeatmapCell",
    "HeatmapPublication",
    "HeatmapPublishedTable",
    "HeatmapContribution",
    "HeatmapStageCell",
    "IdempotencyRecord",
    "IntegratorNotice",
    "Invitation",
    "MailMessage",
    "PeriodicRun",
    "PasswordReset",
    "QuestionnaireRecord",
    "ReportJob",
    "ReportPdf",
    "Result",
    "User",
    "WEBHOOK_EVENTS",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebSession",
]
