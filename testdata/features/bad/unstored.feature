Feature: Value never stored

  Scenario: A template value nobody stored
    When I send a GET request to "Patient/{{patientId}}"
    Then the response status should be 200
