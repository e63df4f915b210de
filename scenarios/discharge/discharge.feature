@discharge
Feature: Discharge notification
  The inpatient admitted earlier goes home: the Encounter is finished, a
  discharge summary document is filed, and the GP practice hears of it.

  Background:
    Given I store "{{nhsNumber}}" as "nhs"
    And I store "{{uuid}}" as "encounterNumber"
    And I store "{{now}}" as "admitted"
    And I store "{{now}}" as "discharged"
    When I send a POST request to "Patient" with body from "fixtures/patient.json" if none exists matching "identifier=https://fhir.nhs.uk/Id/nhs-number|{{nhs}}"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Patient.id" as "patientId"
    When I send a POST request to "Encounter" with body from "fixtures/encounter.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Encounter.id" as "encounterId"

  @DIS-01 @MUST @requires:Encounter.conditional-update
  Scenario: The discharge upsert finishes the same Encounter
    When I send a PUT request to "Encounter?identifier=https://fhir.leedsth.nhs.uk/Id/encounter%7C{{encounterNumber}}" with body from "fixtures/encounter-finished.json"
    Then the response status should be 200
    When I send a GET request to "Encounter/{{encounterId}}"
    Then the response status should be 200
    And the FHIRPath "Encounter.status = 'finished'" should be true
    And the FHIRPath "Encounter.period.end.exists() and Encounter.period.start.exists()" should be true

  @DIS-01 @MUST @requires:Encounter.conditional-update
  Scenario Outline: The finished Encounter carries its <what>
    When I send a PUT request to "Encounter?identifier=https://fhir.leedsth.nhs.uk/Id/encounter%7C{{encounterNumber}}" with body from "fixtures/encounter-finished.json"
    And I send a GET request to "Encounter/{{encounterId}}"
    Then the response status should be 200
    And the FHIRPath "<path>" should be true

    Examples:
      | what                  | path                                                                                                                                                                                          |
      | discharge method      | Encounter.extension('https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DischargeMethod').value.coding.where(system = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeMethodEngland').code = '1' |
      | discharge destination | Encounter.hospitalization.dischargeDisposition.coding.where(system = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeDestinationEngland').code = '19'                                      |

  @DIS-02 @MUST
  Scenario: The finished Encounter conforms to UKCore-Encounter
    When I send a PUT request to "Encounter/{{encounterId}}" with body from "fixtures/encounter-finished-by-id.json"
    Then the response status should be 200
    When I send a GET request to "Encounter/{{encounterId}}"
    Then the response should conform to "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Encounter"

  @DIS-03 @MUST @requires:Bundle.create
  Scenario: The discharge summary is a document led by a final discharge summary Composition
    Given I store "{{uuid}}" as "documentId"
    And I store "{{uuid}}" as "compositionUuid"
    And I store "{{uuid}}" as "patientUrn"
    And I store "{{uuid}}" as "encounterUrn"
    And I store "{{uuid}}" as "authorUrn"
    And I store "{{uuid}}" as "custodianUrn"
    And I store "{{uuid}}" as "gpUrn"
    When I send a POST request to "Bundle" with body from "fixtures/discharge-summary.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Bundle.id" as "bundleId"
    When I send a GET request to "Bundle/{{bundleId}}"
    Then the response status should be 200
    And the FHIRPath "Bundle.type = 'document' and Bundle.identifier.value = %documentId and Bundle.timestamp.exists()" should be true
    And the FHIRPath "Bundle.entry.first().resource.ofType(Composition).status = 'final'" should be true
    And the FHIRPath "Bundle.entry.first().resource.ofType(Composition).type.coding.where(system = 'http://snomed.info/sct').code = '373942005'" should be true

  @DIS-03 @MUST @requires:Bundle.create
  Scenario Outline: The discharge summary carries the <heading> heading with text
    Given I store "{{uuid}}" as "documentId"
    And I store "{{uuid}}" as "compositionUuid"
    And I store "{{uuid}}" as "patientUrn"
    And I store "{{uuid}}" as "encounterUrn"
    And I store "{{uuid}}" as "authorUrn"
    And I store "{{uuid}}" as "custodianUrn"
    And I store "{{uuid}}" as "gpUrn"
    When I send a POST request to "Bundle" with body from "fixtures/discharge-summary.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Bundle.id" as "bundleId"
    When I send a GET request to "Bundle/{{bundleId}}"
    Then the FHIRPath "Bundle.entry.first().resource.ofType(Composition).section.where(code.coding.where(system = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-RecordStandardHeadings' and code = '<heading>').exists()).text.div.exists()" should be true

    Examples:
      | heading                         |
      | discharge-details               |
      | clinical-narrative              |
      | diagnoses                       |
      | medications-and-medical-devices |
      | allergies-and-adverse-reaction  |
      | plan-and-requested-actions      |
      | general-practitioner-practice   |

  @DIS-04 @MUST @requires:Bundle.create
  Scenario: Every reference of the Composition resolves inside the document
    Given I store "{{uuid}}" as "documentId"
    And I store "{{uuid}}" as "compositionUuid"
    And I store "{{uuid}}" as "patientUrn"
    And I store "{{uuid}}" as "encounterUrn"
    And I store "{{uuid}}" as "authorUrn"
    And I store "{{uuid}}" as "custodianUrn"
    And I store "{{uuid}}" as "gpUrn"
    When I send a POST request to "Bundle" with body from "fixtures/discharge-summary.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Bundle.id" as "bundleId"
    When I send a GET request to "Bundle/{{bundleId}}"
    Then the FHIRPath "Bundle.entry.first().resource.ofType(Composition).select(subject | encounter | author | custodian | section.entry).reference.count() >= 5" should be true
    And the FHIRPath "Bundle.entry.first().resource.ofType(Composition).select(subject | encounter | author | custodian | section.entry).reference.all(%resource.entry.fullUrl contains $this)" should be true

  @DIS-05 @MUST @requires:Bundle.create
  Scenario: The discharge summary is retrievable and valid
    Given I store "{{uuid}}" as "documentId"
    And I store "{{uuid}}" as "compositionUuid"
    And I store "{{uuid}}" as "patientUrn"
    And I store "{{uuid}}" as "encounterUrn"
    And I store "{{uuid}}" as "authorUrn"
    And I store "{{uuid}}" as "custodianUrn"
    And I store "{{uuid}}" as "gpUrn"
    When I send a POST request to "Bundle" with body from "fixtures/discharge-summary.json"
    Then the response status should be one of "200, 201"
    And I store the FHIRPath "Bundle.id" as "bundleId"
    When I send a GET request to "Bundle/{{bundleId}}"
    Then the response status should be 200
    And the FHIRPath "Bundle.entry.count() = 6" should be true
    And the FHIRPath "Bundle.entry.first().resource.ofType(Composition).identifier.value = %compositionUuid" should be true
    And the response should be valid FHIR

  @DIS-06 @SHOULD
  Scenario: Finishing the Encounter notifies the receiving endpoint
    When I send a PUT request to "Encounter/{{encounterId}}" with body from "fixtures/encounter-finished-by-id.json"
    Then the response status should be 200
    Then within 10 seconds a message should be received where the FHIRPath "Bundle.entry.first().resource.ofType(MessageHeader).focus.reference.where($this.endsWith('Encounter/' + %encounterId)).exists()" is true
    And the FHIRPath "Bundle.type = 'message'" should be true
    And the FHIRPath "Bundle.entry.first().resource.ofType(MessageHeader).event.where(system = 'http://snomed.info/sct').code = '306689006'" should be true

  @DIS-07 @MUST @requires:Bundle.create
  Scenario: A discharge summary whose Composition has no status is refused
    Given I store "{{uuid}}" as "documentId"
    And I store "{{uuid}}" as "compositionUuid"
    And I store "{{uuid}}" as "patientUrn"
    And I store "{{uuid}}" as "encounterUrn"
    And I store "{{uuid}}" as "authorUrn"
    And I store "{{uuid}}" as "custodianUrn"
    And I store "{{uuid}}" as "gpUrn"
    When I send a POST request to "Bundle" with body from "fixtures/discharge-summary-invalid-no-status.json"
    Then the response status should be one of "400, 422"
