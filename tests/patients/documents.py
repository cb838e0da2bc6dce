"""GraphQL documents and small helpers shared by the patient API tests."""

from __future__ import annotations

from typing import Any, Protocol

PRACTICE = "000000000000000000000001"
VIP = "0000000000000000000000a1"
NEW_PATIENT = "0000000000000000000000a2"
NHS_NUMBER = "0000000000000000000000b1"
GOLD = "0000000000000000000000c1"
EVERYONE = "0000000000000000000000d1"
MISSING = "ffffffffffffffffffffffff"

USER = "id title firstName lastName gender pronouns email fullName isDoctor qualifications registration deleted minimumTreatmentAge createdAt updatedAt"  # noqa: E501
PHONE = "phoneId phoneType phoneNumber"
CONTACT = f"""relatedAccountId source sourceId firstName lastName title companyName
  phones {{ {PHONE} }} email address city postcode country notes name contactInfo
  policyNumber authorizationCode"""
RELATIONSHIP = f"""relationshipId relationshipType relationshipLabel deleted
  contactDetails {{ {CONTACT} }}"""
# every field of Patient (SPEC: a client selecting them all must work)
PATIENT = f"""
  id title status firstName lastName fullName birthSurname birthName birthNames dob
  placeOfBirth {{ name code }} socialSecurityNumber gender sex email googleClientId
  paymentReference phones {{ {PHONE} }} occupation
  address {{ address city postcode country }}
  membershipName membershipStartDate membershipStartDateFormatted
  sharingToken {{ token }}
  numbers {{ id name value referenceId }}
  customAttributes {{ id title text response required }}
  communicationPreferences {{ receiveEmail receiveSMS promotionalMarketing
    privacyPolicy {{ response }} paymentReminders }}
  relatedAccounts {{ {RELATIONSHIP} }}
  labels {{ color text id referenceId }}
  createdAt updatedAt
  accessGroups {{ id name label }}
  comments
  ins {{ number oid manualIdentification identityAlertStatus identityAlertComment status
    identityDocument }}
  onHold archived
  archivedInfo {{ archivedAt archivedBy {{ {USER} }} archivedReason archivedComments
    unarchivedAt unarchivedBy {{ {USER} }} unarchivedReason }}
"""
PAYLOAD = f"{{ data {{ {PATIENT} }} error }}"

CREATE = f"""
mutation Create($data: CreatePatientDataInput, $ins: INSInput) {{
  createPatient(patientData: $data, insData: $ins) {PAYLOAD}
}}"""
CREATE_FLAT = f"""
mutation CreateFlat($first: String, $last: String, $email: String, $dob: Date,
                    $phoneType: String, $phoneNumber: String, $city: String,
                    $data: CreatePatientDataInput) {{
  createPatient(first: $first, last: $last, email: $email, dob: $dob, phoneType: $phoneType,
                phoneNumber: $phoneNumber, city: $city, patientData: $data) {PAYLOAD}
}}"""
UPDATE = f"""
mutation Update($id: ID!, $data: UpdatePatientDataInput!) {{
  updatePatient(id: $id, patientData: $data) {PAYLOAD}
}}"""
DELETE = f"mutation Delete($id: ID!) {{ deletePatient(id: $id) {PAYLOAD} }}"
ARCHIVE = f"""
mutation Archive($id: ID!, $reason: PatientArchiveReason!, $comments: String) {{
  archivePatient(patientId: $id, reason: $reason, comments: $comments) {PAYLOAD}
}}"""
UNARCHIVE = f"""
mutation Unarchive($id: ID!, $reason: PatientUnarchiveReason) {{
  unarchivePatient(patientId: $id, reason: $reason) {PAYLOAD}
}}"""
GET = f"query Get($id: ID!) {{ patient(id: $id) {{ {PATIENT} }} }}"
LIST = """
query List($search: String, $pagination: Pagination, $options: QueryOptions) {
  patients(search: $search, pagination: $pagination, options: $options) {
    data { id firstName lastName status createdAt updatedAt }
    pageInfo { page pageSize hasMore }
  }
}"""
RELATIONSHIPS = f"""
query Relationships($id: ID!, $type: PatientRelationshipType) {{
  patientRelationships(patientId: $id, relationshipType: $type) {{ data {{ {RELATIONSHIP} }} }}
}}"""

# the sub-record mutations, each with $id (the patient) and its own variables
ADD_LABEL = f"""mutation($id: ID!, $ref: ID!) {{
  addPatientLabel(patientId: $id, labelReferenceId: $ref) {PAYLOAD} }}"""
REMOVE_LABEL = f"""mutation($id: ID!, $label: ID!) {{
  removePatientLabel(patientId: $id, labelId: $label) {PAYLOAD} }}"""
ADD_PHONE = f"""mutation($id: ID!, $phone: AddPhoneData!) {{
  addPatientPhoneNumber(patientId: $id, phoneData: $phone) {PAYLOAD} }}"""
UPDATE_PHONE = f"""mutation($id: ID!, $phoneId: ID!, $phone: UpdatePhoneData) {{
  updatePatientPhoneNumber(patientId: $id, phoneId: $phoneId, phoneData: $phone) {PAYLOAD} }}"""
REMOVE_PHONE = f"""mutation($id: ID!, $phoneId: ID!) {{
  removePatientPhoneNumber(patientId: $id, phoneId: $phoneId) {PAYLOAD} }}"""
ADD_ATTRIBUTE = f"""mutation($id: ID!, $attr: AddCustomAttributeData!) {{
  addPatientAttribute(patientId: $id, attributeData: $attr) {PAYLOAD} }}"""
UPDATE_ATTRIBUTE = f"""mutation($id: ID!, $attrId: ID!, $attr: UpdateCustomAttributeData!) {{
  updatePatientAttribute(patientId: $id, attributeId: $attrId, attributeData: $attr) {PAYLOAD}
}}"""
REMOVE_ATTRIBUTE = f"""mutation($id: ID!, $attrId: ID!) {{
  removePatientAttribute(patientId: $id, attributeId: $attrId) {PAYLOAD} }}"""
ADD_NUMBER = f"""mutation($id: ID!, $number: AddPatientNumberData!) {{
  addPatientNumber(patientId: $id, patientNumber: $number) {PAYLOAD} }}"""
UPDATE_NUMBER = f"""mutation($id: ID!, $numberId: ID!, $value: String) {{
  updatePatientNumber(patientId: $id, patientNumberId: $numberId, value: $value) {PAYLOAD} }}"""
REMOVE_NUMBER = f"""mutation($id: ID!, $numberId: ID!) {{
  removePatientNumber(patientId: $id, patientNumberId: $numberId) {PAYLOAD} }}"""
ADD_ACCESS_GROUP = f"""mutation($id: ID!, $group: ID!) {{
  addPatientAccessGroup(patientId: $id, accessGroupId: $group) {PAYLOAD} }}"""
REMOVE_ACCESS_GROUP = f"""mutation($id: ID!, $group: ID!) {{
  removePatientAccessGroup(patientId: $id, accessGroupId: $group) {PAYLOAD} }}"""
ADD_MEMBERSHIP = f"""mutation($id: ID!, $membership: ID!, $start: String, $comments: String) {{
  addPatientMembership(patientId: $id, membershipId: $membership,
                       membershipStartDate: $start, comments: $comments) {PAYLOAD} }}"""
REMOVE_MEMBERSHIP = f"""mutation($id: ID!, $membership: ID!) {{
  removePatientMembership(patientId: $id, membershipId: $membership) {PAYLOAD} }}"""
ADD_RELATIONSHIP = f"""mutation($id: ID!, $type: PatientRelationshipType!, $label: String,
                               $contact: PatientRelationshipContactInput!) {{
  addPatientRelationship(patientId: $id, relationshipType: $type, relationshipLabel: $label,
                         contact: $contact) {PAYLOAD} }}"""
UPDATE_RELATIONSHIP = f"""mutation($id: ID!, $relId: ID!,
                                  $contact: PatientRelationshipContactInput!) {{
  updatePatientRelationship(patientId: $id, relationshipId: $relId, contact: $contact) {PAYLOAD}
}}"""
REMOVE_RELATIONSHIP = f"""mutation($id: ID!, $relId: ID!) {{
  removePatientRelationship(patientId: $id, relationshipId: $relId) {PAYLOAD} }}"""


class Executor(Protocol):
    def execute(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any: ...


def is_id(value: Any) -> bool:
    return (
        isinstance(value, str) and len(value) == 24 and all(c in "0123456789abcdef" for c in value)
    )


def get(api: Executor, patient_id: str) -> Any:
    """``patient(id)``, asserting no error."""
    result = api.execute(GET, {"id": patient_id})
    assert "errors" not in result, result
    return result["data"]["patient"]


def payload(result: dict[str, Any]) -> dict[str, Any]:
    """The single root field's payload ``{data, error}`` of a mutation response."""
    assert "errors" not in result, result
    (value,) = result["data"].values()
    assert isinstance(value, dict)
    return value


def ok(result: dict[str, Any]) -> dict[str, Any]:
    """The patient of a successful mutation."""
    body = payload(result)
    assert body["error"] is None, body
    assert isinstance(body["data"], dict)
    return body["data"]


def create(api: Executor, token: str | None = None, **data: Any) -> dict[str, Any]:
    """createPatient(patientData: {first: "Ada", last: "Lovelace", **data})."""
    fields = {"first": "Ada", "last": "Lovelace", **data}
    kw = {} if token is None else {"token": token}
    return ok(api.execute(CREATE, {"data": fields}, **kw))


ATTRIBUTE = {"title": "Allergy", "text": "Allergies", "response": "None"}
