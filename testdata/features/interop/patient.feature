Feature: Patient interactions with the mandated steps
  Any FHIR R4 server that supports create, read, update, search and delete of
  Patient passes these scenarios.

  Background:
    Given I store "{{nhsNumber}}" as "nhs"

  Scenario: Create, read, update and delete a UK Core Patient
    When I send a POST request to "Patient" with body from "fixtures/patient.json"
    Then the response status should be 201
    And the response header "Location" should be present
    And I store the FHIRPath "Patient.id" as "patientId"
    When I send a GET request to "Patient/{{patientId}}"
    Then the response status should be 200
    And the FHIRPath "Patient.id = %patientId" should be true
    And the FHIRPath "Patient.identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value = %nhs" should be true
    And the response should conform to "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
    When I send a PUT request to "Patient/{{patientId}}" with body from "fixtures/patient-update.json"
    Then the response status should be 200
    And the FHIRPath "Patient.name.given.count() = 2" should be true
    When I send a DELETE request to "Patient/{{patientId}}"
    Then the response status should be 200
    When I send a GET request to "Patient/{{patientId}}"
    Then the response status should be one of "404, 410"

  Scenario: Search by NHS Number
    When I send a POST request to "Patient" with body from "fixtures/patient.json"
    Then the response status should be 201
    When I send a GET request to "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{{nhs}}"
    Then the response status should be 200
    And the FHIRPath "Bundle.type = 'searchset' and Bundle.entry.count() = 1" should be true

  Scenario: The CapabilityStatement declares FHIR R4
    When I send a GET request to "metadata"
    Then the response status should be 200
    And the response header "Content-Type" should be present
    And the FHIRPath "CapabilityStatement.fhirVersion = '4.0.1'" should be true
