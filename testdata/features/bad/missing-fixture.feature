Feature: Missing fixture

  Scenario: The body file does not exist
    When I send a POST request to "Patient" with body from "fixtures/nowhere.json"
    Then the response status should be 201
