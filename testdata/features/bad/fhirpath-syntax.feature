Feature: FHIRPath syntax error

  Scenario: An expression that does not parse
    When I send a GET request to "metadata"
    Then the FHIRPath "CapabilityStatement.status = " should be true
