Feature: A misbehaving server

  Scenario: Internal server error
    When I send a GET request to "error500"
    Then the response status should be 200

  Scenario: Too slow
    When I send a POST request to "slow" with body:
      """
      {"resourceType": "Patient"}
      """
    Then the response status should be 201

  Scenario: Connection reset
    When I send a POST request to "reset" with body:
      """
      {"resourceType": "Patient"}
      """
    Then the response status should be 201

  Scenario: Wrong content type
    When I send a GET request to "html"
    Then the response status should be 200
    And the FHIRPath "Patient.id.exists()" should be true

  Scenario: Ten megabyte body
    When I send a GET request to "big"
    Then the response status should be 200

  Scenario: Redirect loop
    When I send a GET request to "loop"
    Then the response status should be 200

  Scenario: Not conformant
    When I send a POST request to "Patient" with body:
      """
      {"resourceType": "Patient", "active": true}
      """
    Then the response should conform to "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
