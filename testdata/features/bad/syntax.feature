Feature: Broken

  Scenario: A table without a step
    Given I store "a" as "b"
  | not | a | step |
  This line is not Gherkin
