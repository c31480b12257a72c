"""The CDK's standard source tests (spec, check, discover, basic read, bad catalog), against the stand-in.

Scenarios come from acceptance-test-config.yml. The Docker image tests are deselected (`-m "not image_tests"`
in the Makefile): they need a Docker engine, which this project's machines do not have.
"""

import pytest

from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase

from source_claude import SourceClaude


@pytest.mark.usefixtures("standard_suite_configs")
class TestSourceClaudeStandardSuite(SourceTestSuiteBase):
    @classmethod
    def create_connector(cls, scenario: ConnectorTestScenario | None) -> SourceClaude:
        # CDK 7 builds streams from the constructor's config, so the scenario's config must be passed here.
        config = (scenario or ConnectorTestScenario()).get_config_dict(
            empty_if_missing=True, connector_root=cls.get_connector_root_dir()
        )
        return SourceClaude(config=config)
