@capability
Feature: The server's CapabilityStatement
  A commissioner reads the CapabilityStatement first: it says which FHIR version,
  formats, interactions and operations the server offers, and so which of the
  workflow scenarios can run at all.

  Background:
    When I send a GET request to "metadata"
    Then the response status should be 200
    And the response should be a "CapabilityStatement" resource

  @CAP-01 @MUST
  Scenario: The server declares FHIR R4 (4.0.1)
    Then the FHIRPath "CapabilityStatement.fhirVersion = '4.0.1'" should be true

  @CAP-01 @MUST
  Scenario: The CapabilityStatement is a server statement about this instance
    Then the FHIRPath "CapabilityStatement.rest.where(mode = 'server').exists()" should be true
    And the FHIRPath "CapabilityStatement.fhirVersion.startsWith('4.0')" should be true

  @CAP-02 @MUST
  Scenario: The server declares the JSON format
    Then the FHIRPath "CapabilityStatement.format.where($this = 'json' or $this = 'application/fhir+json').exists()" should be true

  @CAP-02 @MUST
  Scenario: The server labels FHIR responses application/fhir+json
    Then the response header "Content-Type" should contain "application/fhir+json"

  @CAP-03 @MUST
  Scenario Outline: The server declares <interaction> on <type>
    Then the FHIRPath "CapabilityStatement.rest.where(mode = 'server').resource.where(type = '<type>').interaction.where(code = '<interaction>').exists()" should be true

    Examples:
      | type      | interaction |
      | Patient   | create      |
      | Patient   | read        |
      | Patient   | search-type |
      | Encounter | create      |
      | Encounter | read        |
      | Encounter | update      |
      | Encounter | search-type |

  @CAP-03 @MUST
  Scenario: The server declares conditional create of Patient and conditional update of Encounter
    Then the FHIRPath "CapabilityStatement.rest.resource.where(type = 'Patient').conditionalCreate = true" should be true
    And the FHIRPath "CapabilityStatement.rest.resource.where(type = 'Encounter').conditionalUpdate = true" should be true

  @CAP-04 @MUST
  Scenario: The server declares the $process-message operation
    Then the FHIRPath "(CapabilityStatement.rest.operation | CapabilityStatement.rest.resource.where(type = 'MessageHeader').operation).where(name = 'process-message').exists()" should be true

  @CAP-05 @SHOULD
  Scenario Outline: The server supports UKCore-<type>
    Then the FHIRPath "CapabilityStatement.rest.resource.where(type = '<type>').supportedProfile.where($this.startsWith('https://fhir.hl7.org.uk/StructureDefinition/UKCore-<type>')).exists()" should be true

    Examples:
      | type      |
      | Patient   |
      | Encounter |

  @CAP-06 @SHOULD
  Scenario Outline: The server declares the <parameter> search parameter on <type>
    Then the FHIRPath "CapabilityStatement.rest.resource.where(type = '<type>').searchParam.where(name = '<parameter>').exists()" should be true

    Examples:
      | type      | parameter  |
      | Patient   | identifier |
      | Encounter | identifier |
      | Encounter | patient    |

  @CAP-07 @MAY
  Scenario: The server receives BaRS referral requests
    Then the FHIRPath "CapabilityStatement.messaging.supportedMessage.where(definition = 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral').exists()" should be true
