@referral @requires:system.$process-message
Feature: BaRS referral from 111 to an emergency department
  The referring service sends a servicerequest-request message to the receiver's
  $process-message endpoint with the BaRS headers; the receiver acknowledges it,
  refuses what is malformed or replayed, and answers with a servicerequest-response.

  Background:
    Given I store "{{nhsNumber}}" as "nhs"
    And I store "{{uuid}}" as "bundleId"
    And I store "{{uuid}}" as "headerId"
    And I store "{{uuid}}" as "serviceRequestId"
    And I store "{{uuid}}" as "patientUrn"
    And I store "{{uuid}}" as "caseNumber"
    And I store "{{uuid}}" as "correlationId"
    And I set the request header "X-Request-Id" to "{{uuid}}"
    And I set the request header "X-Correlation-Id" to "{{correlationId}}"
    And I set the request header "NHSD-Target-Identifier" to "eyJ2YWx1ZSI6IjExMTExMTExMSIsInN5c3RlbSI6Imh0dHBzOi8vZmhpci5uaHMudWsvSWQvZG9zLXNlcnZpY2UtaWQifQ=="
    And I set the request header "NHSD-End-User-Organisation" to "eyJyZXNvdXJjZVR5cGUiOiJPcmdhbml6YXRpb24iLCJpZGVudGlmaWVyIjpbeyJzeXN0ZW0iOiJodHRwczovL2ZoaXIubmhzLnVrL0lkL29kcy1vcmdhbml6YXRpb24tY29kZSIsInZhbHVlIjoiUk5EIn1dfQ=="
    And I set the request header "NHSD-Requesting-Practitioner" to "eyJyZXNvdXJjZVR5cGUiOiJQcmFjdGl0aW9uZXJSb2xlIiwiaWRlbnRpZmllciI6W3sic3lzdGVtIjoiaHR0cHM6Ly9maGlyLm5ocy51ay9JZC9zZHMtcm9sZS1wcm9maWxlLWlkIiwidmFsdWUiOiJQVDI0ODkifV19"
    And I set the request header "NHSD-Requesting-Software" to "eyJyZXNvdXJjZVR5cGUiOiJEZXZpY2UiLCJkZXZpY2VOYW1lIjpbeyJuYW1lIjoiY29uZm9ybSIsInR5cGUiOiJtYW51ZmFjdHVyZXItbmFtZSJ9XX0="

  @REF-01 @MUST
  Scenario: A complete referral is accepted
    When I send the message from "fixtures/referral.json" to $process-message
    Then the response status should be 200
    And the response should be FHIR JSON

  @REF-02 @MUST
  Scenario: The acknowledgement echoes X-Request-Id
    When I send the message from "fixtures/referral.json" to $process-message
    Then the response status should be 200
    And the response header "X-Request-Id" should echo the request

  @REF-02 @MUST
  Scenario: A refusal echoes X-Request-Id
    When I send the message from "fixtures/referral-invalid-header-not-first.json" to $process-message
    Then the response status should be one of "400, 422"
    And the response header "X-Request-Id" should echo the request

  @REF-03 @MUST
  Scenario: The acknowledgement echoes X-Correlation-Id
    When I send the message from "fixtures/referral.json" to $process-message
    Then the response status should be 200
    And the response header "X-Correlation-Id" should echo the request

  @REF-03 @MUST
  Scenario: A refusal echoes X-Correlation-Id
    When I send the message from "fixtures/referral-invalid-header-not-first.json" to $process-message
    Then the response status should be one of "400, 422"
    And the response header "X-Correlation-Id" should echo the request

  @REF-04 @MUST
  Scenario Outline: A referral without <header> is refused with 400
    Given I remove the request header "<header>"
    When I send the message from "fixtures/referral.json" to $process-message
    Then the response status should be 400
    And the response should be a "OperationOutcome" resource

    Examples:
      | header                       |
      | X-Request-Id                 |
      | X-Correlation-Id             |
      | NHSD-Target-Identifier       |
      | NHSD-End-User-Organisation   |
      | NHSD-Requesting-Practitioner |
      | NHSD-Requesting-Software     |

  @REF-04 @MUST
  Scenario: A referral whose X-Request-Id is not a UUID is refused with 400
    Given I set the request header "X-Request-Id" to "request-{{run}}"
    When I send the message from "fixtures/referral.json" to $process-message
    Then the response status should be 400
    And the response should be a "OperationOutcome" resource

  @REF-05 @MUST
  Scenario Outline: A message <problem> is refused with REC_BAD_REQUEST
    When I send the message from "fixtures/<fixture>" to $process-message
    Then the response status should be 400
    And the response should be an OperationOutcome with issue code "REC_BAD_REQUEST"
    And the FHIRPath "OperationOutcome.issue.details.coding.where(code = 'REC_BAD_REQUEST').system = 'https://fhir.nhs.uk/CodeSystem/http-error-codes'" should be true

    Examples:
      | problem                                    | fixture                                |
      | without its CarePlan                       | referral-without-careplan.json         |
      | whose first entry is not the MessageHeader | referral-invalid-header-not-first.json |

  @REF-06 @MUST
  Scenario: A replayed X-Request-Id is refused with 409 REC_CONFLICT
    Given I store "{{uuid}}" as "requestId"
    And I set the request header "X-Request-Id" to "{{requestId}}"
    When I send the message from "fixtures/referral.json" to $process-message
    Then the response status should be 200
    When I send the message from "fixtures/referral.json" to $process-message
    Then the response status should be 409
    And the response should be an OperationOutcome with issue code "REC_CONFLICT"

  @REF-07 @MUST
  Scenario: A message without the CarePlan its MessageDefinition requires is refused
    When I send the message from "fixtures/referral-without-careplan.json" to $process-message
    Then the response status should be 400
    And the response should be a "OperationOutcome" resource

  @REF-07 @MUST
  Scenario: A message whose first entry is not the MessageHeader is refused
    When I send the message from "fixtures/referral-invalid-header-not-first.json" to $process-message
    Then the response status should be 400
    And the response should be a "OperationOutcome" resource

  @REF-08 @MUST @requires:ServiceRequest.read
  Scenario Outline: The accepted ServiceRequest keeps its <what>
    When I send the message from "fixtures/referral.json" to $process-message
    Then the response status should be 200
    When I send a GET request to "ServiceRequest/{{serviceRequestId}}"
    Then the response status should be 200
    And the FHIRPath "<path>" should be true

    Examples:
      | what                 | path                                                                                                                        |
      | intent and status    | ServiceRequest.intent = 'plan' and ServiceRequest.status = 'active'                                                         |
      | referral category    | ServiceRequest.category.coding.where(system = 'https://fhir.nhs.uk/CodeSystem/message-category-servicerequest').code = 'referral' |
      | use case             | ServiceRequest.category.coding.where(system = 'https://fhir.nhs.uk/CodeSystem/usecases-categories-bars').code = 'a1t1'      |
      | authoredOn and subject | ServiceRequest.authoredOn.exists() and ServiceRequest.subject.reference.exists()                                          |

  @REF-08 @MUST @requires:Patient.read
  Scenario: The referred Patient is stored with the NHS Number sent
    When I send the message from "fixtures/referral.json" to $process-message
    Then the response status should be 200
    When I send a GET request to "Patient/{{patientUrn}}"
    Then the response status should be 200
    And the FHIRPath "Patient.identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value = %nhs" should be true

  @REF-09 @MUST @requires:ServiceRequest.read
  Scenario: A cancellation revokes the ServiceRequest
    When I send the message from "fixtures/referral.json" to $process-message
    Then the response status should be 200
    Given I store "{{uuid}}" as "cancelBundleId"
    And I store "{{uuid}}" as "cancelHeaderId"
    When I send the message from "fixtures/cancellation.json" to $process-message
    Then the response status should be 200
    When I send a GET request to "ServiceRequest/{{serviceRequestId}}"
    Then the response status should be 200
    And the FHIRPath "ServiceRequest.status = 'revoked'" should be true

  @REF-10 @MUST
  Scenario: The receiver answers with a servicerequest-response
    When I send the message from "fixtures/referral.json" to $process-message
    Then the response status should be 200
    Then within 10 seconds a message should be received where the FHIRPath "Bundle.entry.resource.ofType(ServiceRequest).id = %serviceRequestId" is true
    And the FHIRPath "Bundle.type = 'message'" should be true
    And the FHIRPath "Bundle.entry.first().resource.ofType(MessageHeader).event.where(system = 'https://fhir.nhs.uk/CodeSystem/message-events-bars').code = 'servicerequest-response'" should be true
    And the FHIRPath "Bundle.entry.first().resource.ofType(MessageHeader).response.code = 'ok'" should be true

  @REF-11 @MUST
  Scenario: The response names the referral it answers
    When I send the message from "fixtures/referral.json" to $process-message
    Then the response status should be 200
    Then within 10 seconds a message should be received where the FHIRPath "Bundle.entry.resource.ofType(ServiceRequest).id = %serviceRequestId" is true
    And the FHIRPath "Bundle.entry.first().resource.ofType(MessageHeader).response.identifier = %bundleId" should be true
