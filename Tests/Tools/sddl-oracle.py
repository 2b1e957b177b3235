#!/usr/bin/python3
"""Samba's security-descriptor code as the independent oracle for rpfs's descriptors and SDDL.

    sddl-oracle.py pack SDDL...    one self-relative descriptor per SDDL string, in hex
    sddl-oracle.py owner HEX       the owner SID of a descriptor ("S-1-5-32-544")
    sddl-oracle.py check           reads lines "HEX<TAB>SDDL" and prints "ok" or what differs

`check` unpacks the descriptor bytes with Samba (NDR) and parses the SDDL text with Samba,
then compares what both denote: owner, group, the DACL/SACL present, protected,
auto-inherited and auto-inherit-required bits, and every ACE (type, flags, mask, SID, object
GUIDs) in order. It does not compare text: Samba renders SDDL in its own style (AD rights
names), so the text is checked by what Samba reads from it. Runs with Debian's python3
(python3-samba), whatever python3 is first on PATH.
"""
import re
import sys

from samba.dcerpc import security
from samba.ndr import ndr_pack, ndr_unpack

CONTROL_BITS = (security.SEC_DESC_DACL_PRESENT | security.SEC_DESC_SACL_PRESENT
                | security.SEC_DESC_DACL_PROTECTED | security.SEC_DESC_SACL_PROTECTED
                | security.SEC_DESC_DACL_AUTO_INHERITED | security.SEC_DESC_SACL_AUTO_INHERITED
                | security.SEC_DESC_DACL_AUTO_INHERIT_REQ | security.SEC_DESC_SACL_AUTO_INHERIT_REQ)


def aces(acl):
    if acl is None:
        return None
    result = []
    for ace in acl.aces:
        entry = (int(ace.type), int(ace.flags), int(ace.access_mask), str(ace.trustee))
        if ace.type in (security.SEC_ACE_TYPE_ACCESS_ALLOWED_OBJECT, security.SEC_ACE_TYPE_ACCESS_DENIED_OBJECT,
                        security.SEC_ACE_TYPE_SYSTEM_AUDIT_OBJECT, security.SEC_ACE_TYPE_SYSTEM_ALARM_OBJECT):
            flags = int(ace.object.flags)
            entry += (flags, str(ace.object.type) if flags & 1 else None, str(ace.object.inherited_type) if flags & 2 else None)
        result.append(entry)
    return result


def samba_rights(text):
    """Samba 4.17 reads the rights alias FA as 0x1ff; Microsoft's SDDL documentation defines it
    as FILE_ALL_ACCESS, 0x1f01ff (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1ff): give Samba
    that number instead."""
    return re.sub(r"\(([A-Z]+|0x[0-9a-f]+);([A-Z]*);FA;", r"(\1;\2;0x1f01ff;", text)


def meaning(descriptor):
    control = int(descriptor.type) & CONTROL_BITS
    dacl = aces(descriptor.dacl) if control & security.SEC_DESC_DACL_PRESENT else None
    sacl = aces(descriptor.sacl) if control & security.SEC_DESC_SACL_PRESENT else None
    owner = str(descriptor.owner_sid) if descriptor.owner_sid is not None else None
    group = str(descriptor.group_sid) if descriptor.group_sid is not None else None
    return {"owner": owner, "group": group, "control": hex(control), "dacl": dacl, "sacl": sacl}


def main():
    if sys.argv[1] == "pack":
        for text in sys.argv[2:]:
            print(ndr_pack(security.descriptor.from_sddl(text, security.dom_sid("S-1-5-21-1-2-3"))).hex())
        return 0
    if sys.argv[1] == "owner":
        print(ndr_unpack(security.descriptor, bytes.fromhex(sys.argv[2])).owner_sid)
        return 0
    failures = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        hex_bytes, text = line.rstrip("\n").split("\t", 1)
        stored = meaning(ndr_unpack(security.descriptor, bytes.fromhex(hex_bytes)))
        try:
            rendered = meaning(security.descriptor.from_sddl(samba_rights(text), security.dom_sid("S-1-5-21-1-2-3")))
        except Exception as error:  # Samba could not read the text at all
            rendered = {"error": str(error)}
        if stored != rendered:
            failures += 1
            print(f"differs: {text}\n  bytes mean {stored}\n  text means {rendered}")
    print("ok" if failures == 0 else f"{failures} differ")
    return 1 if failures else 0


sys.exit(main())
