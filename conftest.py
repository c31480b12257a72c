# The CDK's standard connector tests parametrize their `scenario` from acceptance-test-config.yml.
pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]
