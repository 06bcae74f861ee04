"""Events sent to the engine (POST /api/events, emit()) reaching machine instances.

A definition's `listen` rows map an event type to one of its events and name the payload
field holding the instance's key. The event is sent once per instance: its id is the engine
event's, so a duplicate delivery changes nothing.
"""

from django.db import connection

from engine.core.machine_code import all_machines
from engine.machines.definitions import pinned_machine
from engine.machines.instances import send_internal_event
from engine.models import Event, MachineInstance, MachineVersion


def deliver_to_instances(event: Event) -> int:
    """Send `event` to every instance listening for its type; returns how many it reached."""
    reached = 0
    for slug, key_fields in _listening(event.type).items():
        keys = {
            str(event.payload[name])
            for name in key_fields
            if isinstance(event.payload.get(name), str | int)
            and not isinstance(event.payload.get(name), bool)
        }
        for instance in MachineInstance.objects.filter(machine=slug, key__in=keys):
            definition = pinned_machine(instance.machine, instance.version).definition
            name = next(
                (
                    row.event
                    for row in definition.listen
                    if row.type == event.type and str(event.payload.get(row.key)) == instance.key
                ),
                None,
            )
            if name is None:
                continue  # the version it is pinned to does not listen for this type
            _, created = send_internal_event(
                instance.pk,
                name,
                event.payload,
                event_id=f"event:{event.event_id}"[:200],
                source="event",
            )
            reached += created
    return reached


def _listening(event_type: str) -> dict[str, set[str]]:
    """Machine slug → the payload fields that hold keys, for the machines listening for
    `event_type` in any version (an instance may be pinned to an older one)."""
    found: dict[str, set[str]] = {}
    for code in all_machines():
        for row in code.definition.listen:
            if row.type == event_type:
                found.setdefault(code.slug, set()).add(row.key)
    versions = MachineVersion.objects.all()
    if connection.features.supports_json_field_contains:
        versions = versions.filter(definition__listen__contains=[{"type": event_type}])
    # Elsewhere (SQLite, the embedded default) every version is read: the rows below are
    # checked one by one anyway, and their parsed definitions are cached per row.
    for slug, number in versions.values_list("machine", "number"):
        for row in pinned_machine(slug, number).definition.listen:
            if row.type == event_type:
                found.setdefault(slug, set()).add(row.key)
    return found
