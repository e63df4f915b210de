Feature: Any pushed message

  Scenario: The first message to arrive, whatever it is
    When I send a POST request to "trigger?callback={{receiver}}/inbox&delay=20" with body:
      """
      {"resourceType": "Bundle", "id": "any-{{run}}", "type": "message"}
      """
    Then within 5 seconds a message should be received
    And the response should be a "Bundle" resource
