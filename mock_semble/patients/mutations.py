"""Semble's patient mutations: thin resolvers over :mod:`.operations` and
:mod:`.record_operations`. A :class:`RuleError` becomes the payload's ``error`` (and
``extensions.payloadErrors``); FORBIDDEN stays a top-level error (the field is null).
"""

# strawberry.field / strawberry.mutation are untyped decorators: mypy cannot see through them
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info
from strawberry.types.unset import UNSET

from ..core.context import RequestContext, payload_error
from ..core.errors import RuleError
from . import operations as ops
from . import record_operations as records
from .inputs import (
    AddCustomAttributeData,
    AddPatientNumberData,
    AddPhoneData,
    CreatePatientDataInput,
    INSInput,
    PatientRelationshipContactInput,
    UpdateCustomAttributeData,
    UpdatePatientDataInput,
    UpdatePhoneData,
    given,
)
from .models import Patient as PatientRecord
from .models import PatientArchiveReason, PatientRelationshipType, PatientUnarchiveReason
from .types import PatientResponsePayload, as_patient

Ctx = Info[RequestContext, None]
Payload = PatientResponsePayload | None
ID = strawberry.ID
DEPRECATED = strawberry.argument(deprecation_reason="Use patientData instead.")
Old = Annotated[str | None, DEPRECATED]  # a deprecated flat argument of createPatient


def respond(info: Ctx, run: Callable[[], PatientRecord]) -> PatientResponsePayload:
    try:
        patient = run()
    except RuleError as exc:
        return PatientResponsePayload(data=None, error=payload_error(info, exc))
    return PatientResponsePayload(data=as_patient(patient), error=None)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="This mutation is for creating a new patient.")
    async def create_patient(
        self,
        info: Ctx,
        title: Old = UNSET,
        first: Old = UNSET,
        last: Old = UNSET,
        email: Old = UNSET,
        dob: Annotated[date | None, DEPRECATED] = UNSET,
        gender: Old = UNSET,
        sex: Old = UNSET,
        address: Old = UNSET,
        city: Old = UNSET,
        postcode: Old = UNSET,
        country: Old = UNSET,
        phone_type: Old = UNSET,
        phone_number: Old = UNSET,
        patient_data: Annotated[
            CreatePatientDataInput | None,
            strawberry.argument(
                description="If you use patientData, you may not use other params."
            ),
        ] = UNSET,
        ins_data: INSInput | None = UNSET,
    ) -> Payload:
        flat = {
            "title": title,
            "first": first,
            "last": last,
            "email": email,
            "dob": dob,
            "gender": gender,
            "sex": sex,
            "address": address,
            "city": city,
            "postcode": postcode,
            "country": country,
            "phone_type": phone_type,
            "phone_number": phone_number,
        }
        return respond(
            info,
            lambda: ops.create_patient(
                info.context,
                patient_data=given(patient_data),
                flat={k: v for k, v in flat.items() if v is not UNSET and v is not None},
                ins_data=given(ins_data),
            ),
        )

    @strawberry.mutation(description="This mutation updates the details of an existing patient.")
    async def update_patient(
        self, info: Ctx, id: ID, patient_data: UpdatePatientDataInput
    ) -> Payload:
        return respond(info, lambda: ops.update_patient(info.context, str(id), given(patient_data)))

    @strawberry.mutation(description="This mutation deletes a patient.")
    async def delete_patient(self, info: Ctx, id: ID) -> Payload:
        return respond(info, lambda: ops.delete_patient(info.context, str(id)))

    @strawberry.mutation(description="This mutation archives a patient record.")
    async def archive_patient(
        self,
        info: Ctx,
        patient_id: ID,
        reason: PatientArchiveReason,
        comments: str | None = UNSET,
    ) -> Payload:
        return respond(
            info,
            lambda: ops.archive_patient(info.context, str(patient_id), reason, given(comments)),
        )

    @strawberry.mutation(description="This mutation unarchives a patient record.")
    async def unarchive_patient(
        self, info: Ctx, patient_id: ID, reason: PatientUnarchiveReason | None = UNSET
    ) -> Payload:
        return respond(
            info, lambda: ops.unarchive_patient(info.context, str(patient_id), given(reason))
        )

    @strawberry.mutation(description="This mutation is for adding a patient label.")
    async def add_patient_label(self, info: Ctx, patient_id: ID, label_reference_id: ID) -> Payload:
        return respond(
            info,
            lambda: records.add_label(info.context, str(patient_id), str(label_reference_id)),
        )

    @strawberry.mutation(description="This mutation is for removing a patient label.")
    async def remove_patient_label(self, info: Ctx, patient_id: ID, label_id: ID) -> Payload:
        return respond(
            info, lambda: records.remove_label(info.context, str(patient_id), str(label_id))
        )

    @strawberry.mutation(description="This mutation is for adding a patient phone number.")
    async def add_patient_phone_number(
        self, info: Ctx, patient_id: ID, phone_data: AddPhoneData
    ) -> Payload:
        return respond(
            info,
            lambda: records.add_phone(
                info.context, str(patient_id), phone_data.phone_number, phone_data.phone_type
            ),
        )

    @strawberry.mutation(description="This mutation is for updating a patient phone number.")
    async def update_patient_phone_number(
        self, info: Ctx, patient_id: ID, phone_id: ID, phone_data: UpdatePhoneData | None = UNSET
    ) -> Payload:
        return respond(
            info,
            lambda: records.update_phone(
                info.context, str(patient_id), str(phone_id), given(phone_data) or {}
            ),
        )

    @strawberry.mutation(description="This mutation is for removing a patient phone number.")
    async def remove_patient_phone_number(self, info: Ctx, patient_id: ID, phone_id: ID) -> Payload:
        return respond(
            info, lambda: records.remove_phone(info.context, str(patient_id), str(phone_id))
        )

    @strawberry.mutation(description="This mutation is for adding a patient attribute.")
    async def add_patient_attribute(
        self, info: Ctx, patient_id: ID, attribute_data: AddCustomAttributeData
    ) -> Payload:
        return respond(
            info,
            lambda: records.add_attribute(info.context, str(patient_id), given(attribute_data)),
        )

    @strawberry.mutation(description="This mutation is for updating a patient attribute.")
    async def update_patient_attribute(
        self,
        info: Ctx,
        patient_id: ID,
        attribute_id: ID,
        attribute_data: UpdateCustomAttributeData,
    ) -> Payload:
        return respond(
            info,
            lambda: records.update_attribute(
                info.context, str(patient_id), str(attribute_id), given(attribute_data)
            ),
        )

    @strawberry.mutation(description="This mutation is for removing a patient attribute.")
    async def remove_patient_attribute(
        self, info: Ctx, patient_id: ID, attribute_id: ID
    ) -> Payload:
        return respond(
            info,
            lambda: records.remove_attribute(info.context, str(patient_id), str(attribute_id)),
        )

    @strawberry.mutation(
        description="This mutation is for adding a patient number (such as NHS number)."
    )
    async def add_patient_number(
        self, info: Ctx, patient_id: ID, patient_number: AddPatientNumberData
    ) -> Payload:
        return respond(
            info,
            lambda: records.add_number(
                info.context,
                str(patient_id),
                str(patient_number.number_id),
                patient_number.value,
            ),
        )

    @strawberry.mutation(
        description="This mutation is for updating a patient number (such as NHS number)."
    )
    async def update_patient_number(
        self, info: Ctx, patient_id: ID, patient_number_id: ID, value: str | None = UNSET
    ) -> Payload:
        return respond(
            info,
            lambda: records.update_number(
                info.context, str(patient_id), str(patient_number_id), given(value)
            ),
        )

    @strawberry.mutation(
        description="This mutation is for removing a patient number (such as NHS number)."
    )
    async def remove_patient_number(
        self, info: Ctx, patient_id: ID, patient_number_id: ID
    ) -> Payload:
        return respond(
            info,
            lambda: records.remove_number(info.context, str(patient_id), str(patient_number_id)),
        )

    @strawberry.mutation(description="This mutation adds a patient to an access group.")
    async def add_patient_access_group(
        self, info: Ctx, patient_id: ID, access_group_id: ID
    ) -> Payload:
        return respond(
            info,
            lambda: records.add_access_group(info.context, str(patient_id), str(access_group_id)),
        )

    @strawberry.mutation(description="This mutation removes a patient from an access group.")
    async def remove_patient_access_group(
        self, info: Ctx, patient_id: ID, access_group_id: ID
    ) -> Payload:
        return respond(
            info,
            lambda: records.remove_access_group(
                info.context, str(patient_id), str(access_group_id)
            ),
        )

    @strawberry.mutation(description="This mutation is for adding a membership to a patient.")
    async def add_patient_membership(
        self,
        info: Ctx,
        patient_id: ID,
        membership_id: ID,
        membership_start_date: str | None = UNSET,
        comments: str | None = UNSET,
    ) -> Payload:
        return respond(
            info,
            lambda: records.add_membership(
                info.context,
                str(patient_id),
                str(membership_id),
                given(membership_start_date),
                given(comments),
            ),
        )

    @strawberry.mutation(description="This mutation is for removing a membership from a patient.")
    async def remove_patient_membership(
        self, info: Ctx, patient_id: ID, membership_id: ID
    ) -> Payload:
        return respond(
            info,
            lambda: records.remove_membership(info.context, str(patient_id), str(membership_id)),
        )

    @strawberry.mutation(description="Adds a PatientRelationship to a Patient.")
    async def add_patient_relationship(
        self,
        info: Ctx,
        patient_id: ID,
        relationship_type: PatientRelationshipType,
        *,
        relationship_label: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "Label displayed if relationshipType is OTHER; otherwise generated and "
                    "this field is ignored"
                )
            ),
        ] = UNSET,
        contact: PatientRelationshipContactInput,
    ) -> Payload:
        return respond(
            info,
            lambda: records.add_relationship(
                info.context,
                str(patient_id),
                relationship_type,
                given(relationship_label),
                given(contact),
            ),
        )

    @strawberry.mutation(
        description=(
            "Updates an existing PatientRelationship held by a Patient "
            "(relationshipType and relationshipLabel cannot be updated)."
        )
    )
    async def update_patient_relationship(
        self,
        info: Ctx,
        patient_id: ID,
        relationship_id: ID,
        contact: PatientRelationshipContactInput,
    ) -> Payload:
        return respond(
            info,
            lambda: records.update_relationship(
                info.context, str(patient_id), str(relationship_id), given(contact)
            ),
        )

    @strawberry.mutation(description="Removes an existing PatientRelationship from a Patient.")
    async def remove_patient_relationship(
        self, info: Ctx, patient_id: ID, relationship_id: ID
    ) -> Payload:
        return respond(
            info,
            lambda: records.remove_relationship(
                info.context, str(patient_id), str(relationship_id)
            ),
        )
