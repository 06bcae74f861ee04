"""Engine state kept in the database, the source of truth for every process.

One module per room: runs (and their journal), processes, graphs, human tasks, inbound work.
Every model is imported here, so Django registers them under the "engine" app and
`from engine.models import X` reads the same whichever module X lives in.
"""

from engine.models.graphs import (
    GraphVersion,
    Record,
)
from engine.models.human import (
    NEVER,
    Delegation,
    HumanTask,
    SavedView,
    TaskDecision,
    TaskEvent,
    TaskEventKind,
    TaskKind,
    TaskStatus,
    UsedDecisionLink,
)
from engine.models.inbound import (
    CatchUpPolicy,
    DebounceSlot,
    DeliveryStatus,
    Event,
    EventChannel,
    EventTrigger,
    FireOutcome,
    OverlapPolicy,
    Schedule,
    ScheduleFire,
    ScheduleSource,
    Wait,
    WaitStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from engine.models.processes import (
    ProcessHeartbeat,
    ProcessKind,
    WorkerProbe,
)
from engine.models.runs import (
    ACTIVE_STATUSES,
    ADVANCING_STATUSES,
    TERMINAL_STATUSES,
    Run,
    RunMetric,
    RunStatus,
    StepRecord,
    Timer,
    TimerKind,
    Trigger,
)

__all__ = [
    "ACTIVE_STATUSES",
    "ADVANCING_STATUSES",
    "NEVER",
    "TERMINAL_STATUSES",
    "CatchUpPolicy",
    "DebounceSlot",
    "Delegation",
    "DeliveryStatus",
    "Event",
    "EventChannel",
    "EventTrigger",
    "FireOutcome",
    "GraphVersion",
    "HumanTask",
    "OverlapPolicy",
    "ProcessHeartbeat",
    "ProcessKind",
    "Record",
    "Run",
    "RunMetric",
    "RunStatus",
    "SavedView",
    "Schedule",
    "ScheduleFire",
    "ScheduleSource",
    "StepRecord",
    "TaskDecision",
    "TaskEvent",
    "TaskEventKind",
    "TaskKind",
    "TaskStatus",
    "Timer",
    "TimerKind",
    "Trigger",
    "UsedDecisionLink",
    "Wait",
    "WaitStatus",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WorkerProbe",
]
