"""Patient conveniences for the test tooling: ``create_patient`` on every handle
(:class:`~.client.MockSembleClient`, :class:`~.server.MockSembleServer`, the pytest
``mock_semble`` fixture and a :class:`~.client.Practice`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

CREATE_PATIENT = """
mutation CreatePatient($data: CreatePatientDataInput!) {
  createPatient(patientData: $data) {
    data {
      id title firstName lastName fullName email dob gender sex status archived
      phones { phoneId phoneType phoneNumber }
      labels { id referenceId text color }
      customAttributes { id title text response }
      address { address city postcode country }
      createdAt updatedAt
    }
    error
  }
}
"""
_SNAKE = re.compile(r"_([a-z])")


def camel_case(name: str) -> str:
    """``phone_number`` -> ``phoneNumber``; camelCase names stay as they are."""
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)


class PatientCreationError(Exception):
    """createPatient refused: ``error`` is the payload error (or the GraphQL errors)."""

    def __init__(self, error: object) -> None:
        super().__init__(f"createPatient failed: {error}")
        self.error = error


class _Executes(Protocol):
    def execute(self, query: str, variables: Mapping[str, Any] | None = ..., /) -> Any: ...


class PatientHelpers:
    """Mixed into the handles; needs their ``execute(query, variables, token=...)``."""

    def create_patient(
        self: _Executes,
        first: str = "Test",
        last: str = "Patient",
        *,
        token: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """``createPatient(patientData: …)`` through GraphQL; the new patient.

        ``fields`` are ``CreatePatientDataInput`` fields, in snake_case or camelCase:
        ``create_patient("Ada", "Lovelace", email="ada@example.com", dob="1815-12-10",
        phone_number="+44 20 7946 0018", labels=["0000000000000000000000a1"])``.
        Raises :class:`PatientCreationError` when the mock refuses."""
        data = {"first": first, "last": last, **{camel_case(k): v for k, v in fields.items()}}
        if token is None:
            result = self.execute(CREATE_PATIENT, {"data": data})
        else:
            result = self.execute(CREATE_PATIENT, {"data": data}, token=token)  # type: ignore[call-arg]
        payload = (result.get("data") or {}).get("createPatient")
        if not payload or payload["error"]:
            raise PatientCreationError(payload["error"] if payload else result.get("errors"))
        return payload["data"]  # type: ignore[no-any-return]
