Feature: Undefined step

  Scenario: A reworded step
    When I send a GET request to "metadata"
    Then the response code should be 200
