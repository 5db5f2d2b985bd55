"""Drives a Redfish BMC with OpenStack's sushy (what Ironic uses) and prints what it saw as JSON.

Usage: sushy_drive.py URL USER PASSWORD_FILE SYSTEM_PATH MANAGER_PATH IMAGE
"""
import json
import sys
import time

import sushy

url, user, password_file, system_path, manager_path, image = sys.argv[1:7]
with open(password_file) as f:
    password = f.read().strip()

root = sushy.Sushy(url, username=user, password=password)
system = root.get_system(system_path)
seen = {"resetTypes": sorted(str(v.value) for v in system.get_allowed_reset_system_values())}

system.reset_system(sushy.ResetType.ON)
for _ in range(200):
    system.refresh()
    if system.power_state == sushy.PowerState.ON:
        break
    time.sleep(0.02)
seen["powerAfterOn"] = str(system.power_state.value)

system.set_system_boot_options(
    sushy.BootSource.CD, enabled=sushy.BootSourceOverrideEnabled.ONCE, mode=sushy.BootSourceOverrideMode.UEFI
)
system.refresh()
seen["boot"] = [str(system.boot.target.value), str(system.boot.enabled.value), str(system.boot.mode.value)]

manager = root.get_manager(manager_path)
cd = next(m for m in manager.virtual_media.get_members() if sushy.VirtualMediaType.CD in m.media_types)
cd.insert_media(image, inserted=True, write_protected=True)
cd.refresh()
seen["mediaAfterInsert"] = [cd.image, cd.inserted]
cd.eject_media()
cd.refresh()
seen["mediaAfterEject"] = [cd.image, cd.inserted]

# A value outside the allowable list, sent raw: the BMC itself must refuse it.
try:
    root._conn.patch(system_path, data={"Boot": {"BootSourceOverrideTarget": "Floppy"}})
    seen["badPatch"] = "accepted"
except sushy.exceptions.BadRequestError as error:
    seen["badPatch"] = error.status_code

try:
    sushy.Sushy(url, username=user, password="not-" + password).get_system(system_path)
    seen["wrongPassword"] = "accepted"
except sushy.exceptions.AccessError as error:
    seen["wrongPassword"] = error.status_code

print(json.dumps(seen))
