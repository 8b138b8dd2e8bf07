"""The official artis CRM app's prerequisites, checked on the artis.net user."""

from __future__ import annotations

from enum import StrEnum

from integrations.artis.models import LicenceType, Mission, UOGroupType, User


class Missing(StrEnum):
    """One missing prerequisite; the renderer says what the administrator must do."""

    CRM_LICENCE = "crm_licence"
    SMARTPHONE_LICENCE = "smartphone_licence"
    COMMERCIAL_MISSION = "commercial_mission"
    COMMERCE_UNIT = "commerce_unit"
    INACTIVE = "inactive"


def missing_prerequisites(user: User) -> list[Missing]:
    """Licences CRM + Smartphone (PDA), mission Commercial, a unit of type Commerce."""
    missing: list[Missing] = []
    if not user.active:
        missing.append(Missing.INACTIVE)
    if LicenceType.CRM not in user.licences:
        missing.append(Missing.CRM_LICENCE)
    if LicenceType.PDA not in user.licences:
        missing.append(Missing.SMARTPHONE_LICENCE)
    if Mission.COMMERCIAL not in user.missions:
        missing.append(Missing.COMMERCIAL_MISSION)
    if not any(unit.group_type == UOGroupType.COMMERCE for unit in user.org_units):
        missing.append(Missing.COMMERCE_UNIT)
    return missing
