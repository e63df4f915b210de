Feature: Capability

  Rule: The server describes itself

    Background:
      Given I set the request header "X-Correlation-Id" to "{{uuid}}"

    @CAP-01
    Example: The CapabilityStatement is FHIR R4
      When I send a GET request to "metadata"
      Then the response status should be 200
      And the response should be a "CapabilityStatement" resource
      And the FHIRPath "CapabilityStatement.fhirVersion = '4.0.1'" should be true
      But the FHIRPath "CapabilityStatement.status = 'retired'" should be false
