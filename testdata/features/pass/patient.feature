@CRUD
Feature: Patient and Encounter interactions

  Background:
    Given I set the request header "X-Request-Id" to "{{uuid}}"

  @MUST @CRUD-01
  Scenario: Create then read a patient
    Given I store "{{nhsNumber}}" as "nhs"
    When I send a POST request to "Patient" with body from "fixtures/patient.json"
    Then the response status should be 201
    And the response header "Location" should be present
    And the response header "Content-Type" should be "application/fhir+json; charset=utf-8"
    And the response header "Location" should contain "/Patient/"
    And the response header "Set-Cookie" should be absent
    And the response header "X-Request-Id" should echo the request
    And the response should be FHIR JSON
    And I store the FHIRPath "Patient.id" as "patientId"
    When I send a GET request to "Patient/{{patientId}}"
    Then the response status should be 200
    And the FHIRPath "Patient.identifier[0].value = %nhs" should be true
    And the FHIRPath "Patient.name.family = 'Jones'" should be false
    And the FHIRPath "Patient.identifier[0].value" should equal "{{nhs}}"
    And the response should conform to "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
    And the response should be valid FHIR
    And the response time should be less than 5000 ms
    When I send a DELETE request to "Patient/{{patientId}}"
    Then the response status should be one of "200, 204"

  @SHOULD @CRUD-02
  Scenario: Conditional upsert of an encounter
    Given I store "enc-{{run}}-{{uuid}}" as "enc"
    When I send a PUT request to "Encounter?identifier=https://trust.example/enc|{{enc}}" with body from "fixtures/encounter.json"
    Then the response status should be 201
    And I store the response header "ETag" as "version"
    And I store the FHIRPath "Encounter.id" as "encounterId"
    When I send a PUT request to "Encounter/{{encounterId}}" with body from "fixtures/encounter.json" if the version is "{{version}}"
    Then the response status should be 200
    When I search for "Encounter" with "identifier=https://trust.example/enc|{{enc}}"
    Then the response should be a "Bundle" resource
    And the Bundle should contain 1 "Encounter" entry
    And the Bundle should contain at least 1 entry
    And the FHIRPath "Bundle.entry.count()" should equal "1"
    And every "Encounter" entry in the Bundle should conform to "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Encounter"

  Scenario Outline: Read a resource that does not exist
    When I send a GET request to "<type>/does-not-exist"
    Then the response status should be 404
    And the response should be an OperationOutcome with issue code "not-found"

    Examples:
      | type      |
      | Patient   |
      | Encounter |

  Scenario: Referral message
    Given I set the request header "X-Correlation-Id" to "{{uuid}}"
    When I send the message from "fixtures/message.json" to $process-message
    Then the response status should be 200
    And the response header "X-Correlation-Id" should echo the request
    And the Bundle should contain 1 "MessageHeader" entry
    Given I remove the request header "X-Request-Id"
    When I send the message from "fixtures/message.json" to $process-message
    Then the response status should be 400
    And the response should be an OperationOutcome with issue code "REC_BAD_REQUEST"

  Scenario: Create with a doc string body, a conditional create and a transaction
    When I send a POST request to "Observation" with body:
      """
      {"resourceType": "Observation", "status": "final", "identifier": [{"system": "urn:run", "value": "{{run}}"}]}
      """
    Then the response status should be 201
    Given I store "{{nhsNumber}}" as "nhs"
    When I send a POST request to "Patient" with body from "fixtures/patient.json" if none exists matching "identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"
    Then the response status should be 201
    When I send the Bundle from "fixtures/transaction.json" as a transaction
    Then the response status should be 200
    And the FHIRPath "Bundle.type = 'transaction-response'" should be true
    And the Bundle should contain 2 entries
    When I send a HEAD request to "metadata"
    Then the response status should be 200
    When I send a PATCH request to "Patient/1" with body from "fixtures/patient.json"
    Then the response status should be 405
    And the response should be an OperationOutcome with issue code "not-supported"
