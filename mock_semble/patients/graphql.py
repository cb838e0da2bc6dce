"""Semble's patient queries and mutations (``semble-patients.graphql``): thin resolvers.

Each resolver turns its input objects into plain dicts of the fields given
(:func:`.inputs.given`), calls one function of :mod:`.operations` /
:mod:`.record_operations` and maps a :class:`RuleError` to the payload's ``error``
(mutations: :mod:`.mutations`). Records go out as stored.
"""

# strawberry.field / strawberry.mutation are untyped decorators: mypy cannot see through them
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info
from strawberry.types.unset import UNSET

from ..core.context import RequestContext
from . import operations as ops
from .inputs import Pagination, QueryOptions, given
from .models import PatientRelationshipType
from .mutations import Mutation
from .types import (
    PageInfo,
    Patient,
    PatientData,
    PatientRelationshipData,
    as_patient,
    as_patients,
    as_relationships,
)

Ctx = Info[RequestContext, None]


def _id(value: strawberry.ID) -> str:
    return str(value)


@strawberry.type
class Query:
    @strawberry.field(description="Fetch one patient by id.")
    async def patient(self, info: Ctx, id: strawberry.ID) -> Patient | None:
        patient = ops.get_patient(info.context, _id(id))
        return None if patient is None else as_patient(patient)

    @strawberry.field(
        description=(
            "This query fetches a collection of patients that match the supplied search criteria."
        )
    )
    async def patients(
        self,
        info: Ctx,
        search: str | None = UNSET,
        pagination: Pagination | None = UNSET,
        options: QueryOptions | None = UNSET,
    ) -> PatientData | None:
        paging = given(pagination) or {}
        chosen = given(options) or {}
        created = chosen.get("created_at") or {}
        updated = chosen.get("updated_at") or {}
        page = ops.list_patients(
            info.context,
            search=given(search),
            page=paging.get("page"),
            page_size=paging.get("page_size"),
            include_deleted=chosen.get("include_deleted") is True,
            created=(created.get("start"), created.get("end")),
            updated=(updated.get("start"), updated.get("end")),
        )
        info_ = PageInfo(page=page.page, page_size=page.page_size, has_more=page.has_more)
        return PatientData(data=as_patients(page.patients), page_info=info_)

    @strawberry.field(
        description="Fetches a collection of all PatientRelationships held by a Patient."
    )
    async def patient_relationships(
        self,
        info: Ctx,
        patient_id: strawberry.ID,
        relationship_type: Annotated[
            PatientRelationshipType | None,
            strawberry.argument(
                description=(
                    "If specified, only PatientRelationships with the chosen "
                    "PatientRelationshipType will be returned"
                )
            ),
        ] = UNSET,
    ) -> PatientRelationshipData | None:
        found = ops.patient_relationships(info.context, _id(patient_id), given(relationship_type))
        if found is None:
            return None
        return PatientRelationshipData(data=as_relationships(found))


def build_types(mode: str) -> tuple[type, type]:
    """The patient slice's ``Query`` and ``Mutation``: the same in both API versions."""
    return Query, Mutation
