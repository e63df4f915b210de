Feature: Pushed notifications

  Scenario: The system under test pushes a response to the receiving endpoint
    Given I store "{{uuid}}" as "requestId"
    When I send a POST request to "trigger?callback={{receiver}}/$process-message&delay=50" with body:
      """
      {"resourceType": "Bundle", "id": "{{requestId}}", "type": "message"}
      """
    Then the response status should be 202
    And within 5 seconds a message should be received where the FHIRPath "Bundle.entry[0].resource.response.identifier = %requestId" is true
    And the FHIRPath "Bundle.entry[0].resource.response.code = 'ok'" should be true
    And the Bundle should contain 1 "MessageHeader" entry

  Scenario: Nothing arrives in time
    Then within 1 second a message should be received at "/never"
