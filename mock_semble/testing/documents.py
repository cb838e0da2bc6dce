"""The GraphQL documents of the served operations, in one place.

The test tooling, the project's tests and the benchmarks send these. Each selects every
field of its type (so an answer can be compared with the store as a whole); variables
are named after the arguments (``$input``, ``$id``; ``$all`` for ``includeDeleted``;
patients: ``$data`` for ``patientData``). Documents written to show a user how to call
the API stay in ``examples/``.
"""

from __future__ import annotations

# -- webhooks (SPEC §1.1) --------------------------------------------------------------

WEBHOOK_FIELDS = """id secret url label eventTypes headers { key value } version createdAt
  updatedAt deleted deliveryPaused"""
WEBHOOK_PAYLOAD = f"{{ data {{ {WEBHOOK_FIELDS} }} error }}"

CREATE_WEBHOOK = f"""
mutation CreateWebhook($input: CreateWebhookInput!) {{
  createWebhook(input: $input) {WEBHOOK_PAYLOAD}
}}"""
UPDATE_WEBHOOK = f"""
mutation UpdateWebhook($id: ID!, $input: UpdateWebhookInput!) {{
  updateWebhook(id: $id, input: $input) {WEBHOOK_PAYLOAD}
}}"""
DELETE_WEBHOOK = f"""
mutation DeleteWebhook($id: ID!) {{
  deleteWebhook(id: $id) {WEBHOOK_PAYLOAD}
}}"""
LIST_WEBHOOKS = f"""
query Webhooks($all: Boolean) {{
  webhooks(includeDeleted: $all) {{ {WEBHOOK_FIELDS} }}
}}"""
GET_WEBHOOK = f"""
query Webhook($id: ID!) {{
  webhook(id: $id) {{ {WEBHOOK_FIELDS} }}
}}"""

# -- patients (SPEC §3, semble-patients.graphql) -------------------------------------------

USER_FIELDS = """id title firstName lastName gender pronouns email fullName isDoctor
  qualifications registration deleted minimumTreatmentAge createdAt updatedAt"""
PHONE_FIELDS = "phoneId phoneType phoneNumber"
CONTACT_FIELDS = f"""relatedAccountId source sourceId firstName lastName title companyName
  phones {{ {PHONE_FIELDS} }} email address city postcode country notes name contactInfo
  policyNumber authorizationCode"""
RELATIONSHIP_FIELDS = f"""relationshipId relationshipType relationshipLabel deleted
  contactDetails {{ {CONTACT_FIELDS} }}"""
# every field of Patient (a client selecting them all must work)
PATIENT_FIELDS = f"""
  id title status firstName lastName fullName birthSurname birthName birthNames dob
  placeOfBirth {{ name code }} socialSecurityNumber gender sex email googleClientId
  paymentReference phones {{ {PHONE_FIELDS} }} occupation
  address {{ address city postcode country }}
  membershipName membershipStartDate membershipStartDateFormatted
  sharingToken {{ token }}
  numbers {{ id name value referenceId }}
  customAttributes {{ id title text response required }}
  communicationPreferences {{ receiveEmail receiveSMS promotionalMarketing
    privacyPolicy {{ response }} paymentReminders }}
  relatedAccounts {{ {RELATIONSHIP_FIELDS} }}
  labels {{ color text id referenceId }}
  createdAt updatedAt
  accessGroups {{ id name label }}
  comments
  ins {{ number oid manualIdentification identityAlertStatus identityAlertComment status
    identityDocument }}
  onHold archived
  archivedInfo {{ archivedAt archivedBy {{ {USER_FIELDS} }} archivedReason archivedComments
    unarchivedAt unarchivedBy {{ {USER_FIELDS} }} unarchivedReason }}
"""
PATIENT_PAYLOAD = f"{{ data {{ {PATIENT_FIELDS} }} error }}"

CREATE_PATIENT = f"""
mutation CreatePatient($data: CreatePatientDataInput, $ins: INSInput) {{
  createPatient(patientData: $data, insData: $ins) {PATIENT_PAYLOAD}
}}"""
CREATE_PATIENT_FLAT = f"""
mutation CreatePatientFlat($first: String, $last: String, $email: String, $dob: Date,
                    $phoneType: String, $phoneNumber: String, $city: String,
                    $data: CreatePatientDataInput) {{
  createPatient(first: $first, last: $last, email: $email, dob: $dob, phoneType: $phoneType,
                phoneNumber: $phoneNumber, city: $city, patientData: $data) {PATIENT_PAYLOAD}
}}"""
UPDATE_PATIENT = f"""
mutation UpdatePatient($id: ID!, $data: UpdatePatientDataInput!) {{
  updatePatient(id: $id, patientData: $data) {PATIENT_PAYLOAD}
}}"""
DELETE_PATIENT = f"""
mutation DeletePatient($id: ID!) {{ deletePatient(id: $id) {PATIENT_PAYLOAD} }}"""
ARCHIVE_PATIENT = f"""
mutation ArchivePatient($id: ID!, $reason: PatientArchiveReason!, $comments: String) {{
  archivePatient(patientId: $id, reason: $reason, comments: $comments) {PATIENT_PAYLOAD}
}}"""
UNARCHIVE_PATIENT = f"""
mutation UnarchivePatient($id: ID!, $reason: PatientUnarchiveReason) {{
  unarchivePatient(patientId: $id, reason: $reason) {PATIENT_PAYLOAD}
}}"""
GET_PATIENT = f"query Patient($id: ID!) {{ patient(id: $id) {{ {PATIENT_FIELDS} }} }}"
LIST_PATIENTS = f"""
query Patients($search: String, $pagination: Pagination, $options: QueryOptions) {{
  patients(search: $search, pagination: $pagination, options: $options) {{
    data {{ {PATIENT_FIELDS} }}
    pageInfo {{ page pageSize hasMore }}
  }}
}}"""
PATIENT_RELATIONSHIPS = f"""
query PatientRelationships($id: ID!, $type: PatientRelationshipType) {{
  patientRelationships(patientId: $id, relationshipType: $type) {{
    data {{ {RELATIONSHIP_FIELDS} }}
  }}
}}"""

# the sub-record mutations, each with $id (the patient) and its own variables
ADD_PATIENT_LABEL = f"""mutation AddPatientLabel($id: ID!, $ref: ID!) {{
  addPatientLabel(patientId: $id, labelReferenceId: $ref) {PATIENT_PAYLOAD} }}"""
REMOVE_PATIENT_LABEL = f"""mutation RemovePatientLabel($id: ID!, $label: ID!) {{
  removePatientLabel(patientId: $id, labelId: $label) {PATIENT_PAYLOAD} }}"""
ADD_PATIENT_PHONE = f"""mutation AddPatientPhoneNumber($id: ID!, $phone: AddPhoneData!) {{
  addPatientPhoneNumber(patientId: $id, phoneData: $phone) {PATIENT_PAYLOAD} }}"""
UPDATE_PATIENT_PHONE = f"""
mutation UpdatePatientPhoneNumber($id: ID!, $phoneId: ID!, $phone: UpdatePhoneData) {{
  updatePatientPhoneNumber(patientId: $id, phoneId: $phoneId, phoneData: $phone)
    {PATIENT_PAYLOAD} }}"""
REMOVE_PATIENT_PHONE = f"""mutation RemovePatientPhoneNumber($id: ID!, $phoneId: ID!) {{
  removePatientPhoneNumber(patientId: $id, phoneId: $phoneId) {PATIENT_PAYLOAD} }}"""
ADD_PATIENT_ATTRIBUTE = f"""
mutation AddPatientAttribute($id: ID!, $attr: AddCustomAttributeData!) {{
  addPatientAttribute(patientId: $id, attributeData: $attr) {PATIENT_PAYLOAD} }}"""
UPDATE_PATIENT_ATTRIBUTE = f"""
mutation UpdatePatientAttribute($id: ID!, $attrId: ID!, $attr: UpdateCustomAttributeData!) {{
  updatePatientAttribute(patientId: $id, attributeId: $attrId, attributeData: $attr)
    {PATIENT_PAYLOAD} }}"""
REMOVE_PATIENT_ATTRIBUTE = f"""mutation RemovePatientAttribute($id: ID!, $attrId: ID!) {{
  removePatientAttribute(patientId: $id, attributeId: $attrId) {PATIENT_PAYLOAD} }}"""
ADD_PATIENT_NUMBER = f"""
mutation AddPatientNumber($id: ID!, $number: AddPatientNumberData!) {{
  addPatientNumber(patientId: $id, patientNumber: $number) {PATIENT_PAYLOAD} }}"""
UPDATE_PATIENT_NUMBER = f"""
mutation UpdatePatientNumber($id: ID!, $numberId: ID!, $value: String) {{
  updatePatientNumber(patientId: $id, patientNumberId: $numberId, value: $value)
    {PATIENT_PAYLOAD} }}"""
REMOVE_PATIENT_NUMBER = f"""mutation RemovePatientNumber($id: ID!, $numberId: ID!) {{
  removePatientNumber(patientId: $id, patientNumberId: $numberId) {PATIENT_PAYLOAD} }}"""
ADD_PATIENT_ACCESS_GROUP = f"""mutation AddPatientAccessGroup($id: ID!, $group: ID!) {{
  addPatientAccessGroup(patientId: $id, accessGroupId: $group) {PATIENT_PAYLOAD} }}"""
REMOVE_PATIENT_ACCESS_GROUP = f"""mutation RemovePatientAccessGroup($id: ID!, $group: ID!) {{
  removePatientAccessGroup(patientId: $id, accessGroupId: $group) {PATIENT_PAYLOAD} }}"""
ADD_PATIENT_MEMBERSHIP = f"""
mutation AddPatientMembership($id: ID!, $membership: ID!, $start: String, $comments: String) {{
  addPatientMembership(patientId: $id, membershipId: $membership,
                       membershipStartDate: $start, comments: $comments) {PATIENT_PAYLOAD} }}"""
REMOVE_PATIENT_MEMBERSHIP = f"""mutation RemovePatientMembership($id: ID!, $membership: ID!) {{
  removePatientMembership(patientId: $id, membershipId: $membership) {PATIENT_PAYLOAD} }}"""
ADD_PATIENT_RELATIONSHIP = f"""
mutation AddPatientRelationship($id: ID!, $type: PatientRelationshipType!, $label: String,
                                $contact: PatientRelationshipContactInput!) {{
  addPatientRelationship(patientId: $id, relationshipType: $type, relationshipLabel: $label,
                         contact: $contact) {PATIENT_PAYLOAD} }}"""
UPDATE_PATIENT_RELATIONSHIP = f"""
mutation UpdatePatientRelationship($id: ID!, $relId: ID!,
                                   $contact: PatientRelationshipContactInput!) {{
  updatePatientRelationship(patientId: $id, relationshipId: $relId, contact: $contact)
    {PATIENT_PAYLOAD} }}"""
REMOVE_PATIENT_RELATIONSHIP = f"""mutation RemovePatientRelationship($id: ID!, $relId: ID!) {{
  removePatientRelationship(patientId: $id, relationshipId: $relId) {PATIENT_PAYLOAD} }}"""
