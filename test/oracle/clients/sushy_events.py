"""Subscribes to a Redfish BMC's events with OpenStack's sushy, lists and unsubscribes; prints what it saw as JSON.

Usage: sushy_events.py URL USER PASSWORD_FILE DESTINATION
"""
import json
import sys

import sushy

url, user, password_file, destination = sys.argv[1:5]
with open(password_file) as f:
    password = f.read().strip()

root = sushy.Sushy(url, username=user, password=password)
try:
    service = root.get_event_service()
except sushy.exceptions.MissingAttributeError:
    print(json.dumps({"eventService": "absent"}))
    sys.exit(0)

seen = {"eventService": "present", "enabled": service.service_enabled}
seen["eventTypes"] = sorted(str(t.value) for t in service.get_event_types_for_subscription())
subscription = service.subscriptions.create(
    {"Destination": destination, "Protocol": "Redfish", "EventTypes": ["ResourceUpdated"], "Context": "sushy"}
)
seen["created"] = [subscription.destination, subscription.context]
service.subscriptions.refresh()
seen["membersAfterCreate"] = len(service.subscriptions.get_members())
subscription.delete()
service.subscriptions.refresh()
seen["membersAfterDelete"] = len(service.subscriptions.get_members())
print(json.dumps(seen))
