@admission
Feature: Admission of an inpatient
  The hospital registers the patient once per NHS Number and upserts the
  inpatient Encounter by its identifier; every resource it stores is judged
  against UK Core.

  Background:
    Given I store "{{nhsNumber}}" as "nhs"
    And I store "{{uuid}}" as "encounterNumber"
    And I store "{{now}}" as "admitted"
    When I send a POST request to "Patient" with body from "fixtures/patient.json" if none exists matching "identifier=https://fhir.nhs.uk/Id/nhs-number|{{nhs}}"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Patient.id" as "patientId"

  @ADM-01 @MUST @requires:Encounter.conditional-update
  Scenario: A conditional update creates the Encounter, and a repeat updates the same one
    When I send a PUT request to "Encounter?identifier=https://fhir.leedsth.nhs.uk/Id/encounter%7C{{encounterNumber}}" with body from "fixtures/encounter.json"
    Then the response status should be 201
    And I store the FHIRPath "Encounter.id" as "encounterId"
    When I send a PUT request to "Encounter?identifier=https://fhir.leedsth.nhs.uk/Id/encounter%7C{{encounterNumber}}" with body from "fixtures/encounter.json"
    Then the response status should be 200
    And the FHIRPath "Encounter.id = %encounterId" should be true

  @ADM-01 @MUST @requires:Encounter.conditional-update
  Scenario: The upserted Encounter is the one read back
    When I send a PUT request to "Encounter?identifier=https://fhir.leedsth.nhs.uk/Id/encounter%7C{{encounterNumber}}" with body from "fixtures/encounter.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Encounter.id" as "encounterId"
    When I send a PUT request to "Encounter?identifier=https://fhir.leedsth.nhs.uk/Id/encounter%7C{{encounterNumber}}" with body from "fixtures/encounter.json"
    And I send a GET request to "Encounter/{{encounterId}}"
    Then the response status should be 200
    And the FHIRPath "Encounter.identifier.where(system = 'https://fhir.leedsth.nhs.uk/Id/encounter').value = %encounterNumber" should be true

  @ADM-02 @MUST
  Scenario: Creating a Patient answers 201 with its Location
    Given I store "{{nhsNumber}}" as "nhs"
    When I send a POST request to "Patient" with body from "fixtures/patient.json"
    Then the response status should be 201
    And the response header "Location" should contain "Patient/"

  @ADM-02 @MUST
  Scenario: Creating an Encounter answers 201 with its Location
    When I send a POST request to "Encounter" with body from "fixtures/encounter.json"
    Then the response status should be 201
    And the response header "Location" should contain "Encounter/"

  @ADM-03 @MUST
  Scenario: A read carries an ETag matching the version
    When I send a POST request to "Encounter" with body from "fixtures/encounter.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Encounter.id" as "encounterId"
    When I send a GET request to "Encounter/{{encounterId}}"
    Then the response status should be 200
    And I store the FHIRPath "Encounter.meta.versionId" as "version"
    And the response header "ETag" should contain "{{version}}"

  @ADM-03 @MUST
  Scenario: An update gives the Encounter a new version
    When I send a POST request to "Encounter" with body from "fixtures/encounter.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Encounter.id" as "encounterId"
    And I store the FHIRPath "Encounter.meta.versionId" as "version"
    When I send a PUT request to "Encounter/{{encounterId}}" with body from "fixtures/encounter-by-id.json"
    Then the response status should be 200
    And the FHIRPath "Encounter.meta.versionId != %version" should be true
    And the response header "ETag" should be present

  @ADM-04 @MUST
  Scenario: An update naming the current version succeeds
    When I send a POST request to "Encounter" with body from "fixtures/encounter.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Encounter.id" as "encounterId"
    And I store the FHIRPath "Encounter.meta.versionId" as "version"
    When I send a PUT request to "Encounter/{{encounterId}}" with body from "fixtures/encounter-by-id.json" if the version is "{{version}}"
    Then the response status should be 200

  @ADM-04 @MUST
  Scenario: An update naming a stale version is refused with 412
    When I send a POST request to "Encounter" with body from "fixtures/encounter.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Encounter.id" as "encounterId"
    When I send a PUT request to "Encounter/{{encounterId}}" with body from "fixtures/encounter-by-id.json" if the version is "999"
    Then the response status should be 412

  @ADM-05 @MUST @requires:Patient.conditional-create
  Scenario: Registering the same NHS Number again returns the existing Patient
    When I send a POST request to "Patient" with body from "fixtures/patient.json" if none exists matching "identifier=https://fhir.nhs.uk/Id/nhs-number|{{nhs}}"
    Then the response status should be 200
    And the FHIRPath "Patient.id = %patientId" should be true

  @ADM-06 @MUST
  Scenario: The stored Patient conforms to UKCore-Patient with its NHS Number
    When I send a GET request to "Patient/{{patientId}}"
    Then the response status should be 200
    And the response should conform to "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
    And the FHIRPath "Patient.identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value = %nhs" should be true

  @ADM-06 @MUST
  Scenario: The stored Encounter conforms to UKCore-Encounter
    When I send a POST request to "Encounter" with body from "fixtures/encounter.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Encounter.id" as "encounterId"
    When I send a GET request to "Encounter/{{encounterId}}"
    Then the response status should be 200
    And the response should conform to "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Encounter"
    And the FHIRPath "Encounter.status = 'in-progress' and Encounter.period.start.exists()" should be true
    And the FHIRPath "Encounter.subject.reference.endsWith('Patient/' + %patientId)" should be true

  @ADM-07 @MUST
  Scenario: An Encounter without a status is refused
    When I send a POST request to "Encounter" with body from "fixtures/encounter-invalid.json"
    Then the response status should be one of "400, 422"
    And the response should be a "OperationOutcome" resource

  @ADM-08 @MUST
  Scenario: A Patient whose NHS Number fails the Modulus 11 check is refused
    When I send a POST request to "Patient" with body from "fixtures/patient-invalid-nhs-number.json"
    Then the response status should be one of "400, 422"
    And the response should be a "OperationOutcome" resource

  @ADM-09 @MUST
  Scenario Outline: The Encounter keeps its <what>
    When I send a POST request to "Encounter" with body from "fixtures/encounter.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Encounter.id" as "encounterId"
    When I send a GET request to "Encounter/{{encounterId}}"
    Then the FHIRPath "<path>" should be true

    Examples:
      | what                | path                                                                                                                                                                                                     |
      | class               | Encounter.class.system = 'http://terminology.hl7.org/CodeSystem/v3-ActCode' and Encounter.class.code = 'IMP'                                                                                             |
      | admission method    | Encounter.hospitalization.extension('https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod').value.coding.where(system = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland').code = '13' |
      | source of admission | Encounter.hospitalization.admitSource.coding.where(system = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-SourceOfAdmissionEngland').code = '19'                                                           |
      | service provider    | Encounter.serviceProvider.identifier.where(system = 'https://fhir.nhs.uk/Id/ods-organization-code').value = 'RR8'                                                                                       |

  @ADM-10 @MUST @requires:Encounter.search.identifier
  Scenario: A search by identifier finds exactly the Encounter
    When I send a POST request to "Encounter" with body from "fixtures/encounter.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Encounter.id" as "encounterId"
    When I search for "Encounter" with "identifier=https://fhir.leedsth.nhs.uk/Id/encounter|{{encounterNumber}}"
    Then the response status should be 200
    And the Bundle should contain 1 "Encounter" entry
    And the FHIRPath "Bundle.entry.resource.ofType(Encounter).id = %encounterId" should be true

  @ADM-10 @MUST @requires:Patient.search.identifier
  Scenario: A search by NHS Number finds exactly the Patient
    When I search for "Patient" with "identifier=https://fhir.nhs.uk/Id/nhs-number|{{nhs}}"
    Then the response status should be 200
    And the Bundle should contain 1 "Patient" entry
    And the FHIRPath "Bundle.entry.resource.ofType(Patient).id = %patientId" should be true

  @ADM-11 @MUST @requires:Encounter.search.patient
  Scenario: A search by patient returns only that patient's Encounters
    When I send a POST request to "Encounter" with body from "fixtures/encounter.json"
    Then the response status should be one of "200, 201"
    Given I store "{{patientId}}" as "firstPatient"
    And I store "{{nhsNumber}}" as "nhs"
    When I send a POST request to "Patient" with body from "fixtures/patient.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Patient.id" as "patientId"
    When I send a POST request to "Encounter" with body from "fixtures/encounter.json"
    Then the response status should be one of "200, 201"
    When I search for "Encounter" with "patient=Patient/{{firstPatient}}"
    Then the response status should be 200
    And the Bundle should contain 1 "Encounter" entry
    And the FHIRPath "Bundle.entry.resource.ofType(Encounter).subject.reference.endsWith('Patient/' + %firstPatient)" should be true

  @ADM-12 @SHOULD @requires:Encounter.$validate
  Scenario: $validate reports the error in an Encounter without a status
    When I send a POST request to "Encounter/$validate" with body from "fixtures/encounter-invalid.json"
    Then the response should be a "OperationOutcome" resource
    And the FHIRPath "OperationOutcome.issue.where(severity = 'error' or severity = 'fatal').exists()" should be true

  @ADM-13 @SHOULD @requires:Encounter.history-instance
  Scenario: The history of an updated Encounter lists both versions
    When I send a POST request to "Encounter" with body from "fixtures/encounter.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Encounter.id" as "encounterId"
    When I send a PUT request to "Encounter/{{encounterId}}" with body from "fixtures/encounter-by-id.json"
    Then the response status should be 200
    When I send a GET request to "Encounter/{{encounterId}}/_history"
    Then the response status should be 200
    And the FHIRPath "Bundle.type = 'history'" should be true
    And the Bundle should contain 2 "Encounter" entries

  @ADM-14 @SHOULD @requires:system.transaction
  Scenario: A transaction resolves the Encounter's reference to the new Patient
    Given I store "{{nhsNumber}}" as "nhs"
    And I store "{{uuid}}" as "patientUrn"
    And I store "{{uuid}}" as "encounterUrn"
    When I send the Bundle from "fixtures/admission-transaction.json" as a transaction
    Then the response status should be 200
    And the FHIRPath "Bundle.type = 'transaction-response'" should be true
    And I store the FHIRPath "iif(Bundle.entry[1].resource.exists(), Bundle.entry[1].resource.id, Bundle.entry[1].response.location.replaceMatches('^(.*/)?Encounter/([^/]+).*$', '$2'))" as "encounterId"
    When I send a GET request to "Encounter/{{encounterId}}"
    Then the response status should be 200
    And the FHIRPath "Encounter.subject.reference.startsWith('urn:')" should be false
    And the FHIRPath "Encounter.subject.reference.contains('Patient/')" should be true

  @ADM-15 @SHOULD @requires:Encounter.delete
  Scenario: A deleted Encounter can no longer be read
    When I send a POST request to "Encounter" with body from "fixtures/encounter.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Encounter.id" as "encounterId"
    When I send a DELETE request to "Encounter/{{encounterId}}"
    Then the response status should be one of "200, 204"
    When I send a GET request to "Encounter/{{encounterId}}"
    Then the response status should be one of "404, 410"
