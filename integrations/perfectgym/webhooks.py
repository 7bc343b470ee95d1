"""Perfect Gym's webhooks, as far as they are known: the one place that says what we infer.

The contract (vendors/perfectgym.md) names `UserModified`, `ContractCreated` and
`UserPresenceChanged`, unsigned and redelivered until answered 200 [O]; their bodies'
shape is not documented. So everything here is inferred [I] and kept in this module for a
real contract to correct:

- the event's name is read from the first of EVENT_TYPE_KEYS holding text (top level);
- an event only says "read the vendor now": it wakes the syncs EVENT_SYNCS names, which
  read by `version` from their cursors. Nothing else of the body is used, so a body
  naming some member cannot change that member (or anyone) by itself;
- deliveries carry no id we trust (a redelivery is harmless: waking is coalesced), so
  each one is stored as its own event, and answered 200 (not 202: Perfect Gym delivers
  again until it gets a 200; integrations.views.TokenWebhookView).
"""

import uuid

# Where the event's name is looked for, first found wins (camelCase as the API's JSON).
EVENT_TYPE_KEYS = ("eventType", "type", "event", "name", "EventType", "Type")

# Which syncs an event wakes. ContractCreated: the contract says nothing of member
# products, so only contracts (which fetch a member they do not know yet).
EVENT_SYNCS = {
    "UserModified": ("members",),
    "ContractCreated": ("contracts",),
    "UserPresenceChanged": ("visits",),
}


def event_type_of(payload) -> str:
    """The event's name as the body gives it ("" when it gives none); raises ValueError for
    a body that is not a JSON object."""
    if not isinstance(payload, dict):
        raise ValueError("a Perfect Gym event is a JSON object")
    return next((payload[key].strip() for key in EVENT_TYPE_KEYS
                 if isinstance(payload.get(key), str) and payload[key].strip()), "")


def syncs_woken(event_type: str) -> tuple[str, ...]:
    """The syncs an event of this type wakes (none for a type we do not use)."""
    return EVENT_SYNCS.get(event_type, ())


def delivery_id() -> str:
    """A stored event's id: one per delivery (see the module's note)."""
    return uuid.uuid4().hex
