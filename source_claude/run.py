import sys
from typing import Any, List, Mapping

import orjson

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import ConnectorSpecification, FailureType
from airbyte_cdk.models.airbyte_protocol_serializers import AirbyteMessageSerializer
from airbyte_cdk.utils.airbyte_secrets_utils import update_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_claude.config_validation import ConfigError, validate_config
from source_claude.source import SourceClaude


class SourceClaudeEntrypoint(AirbyteEntrypoint):
    """The CDK entrypoint, with this connector's config checks run before the spec's JSON-schema validation.

    `check` turns a config error into a FAILED connection status; `discover` and `read` into a
    config_error trace and a non-zero exit, as the Airbyte protocol expects.
    """

    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Mapping[str, Any]) -> None:
        try:
            validate_config(config)
        except ConfigError as error:
            raise AirbyteTracedException(message=str(error), failure_type=FailureType.config_error) from None
        AirbyteEntrypoint.validate_connection(source_spec, config)


def _source_from_args(args: List[str]) -> SourceClaude:
    """Builds the source with config, catalog and state (CDK 7 reads them only at construction)."""
    paths = {name: getattr(AirbyteEntrypoint, f"extract_{name}")(args) for name in ("config", "catalog", "state")}
    try:
        config = SourceClaude.read_config(paths["config"]) if paths["config"] else None
        if config and isinstance(config.get("admin_api_key"), str):
            update_secrets([config["admin_api_key"]])  # masked in every log line from here on
        catalog = SourceClaude.read_catalog(paths["catalog"]) if paths["catalog"] else None
        state = SourceClaude.read_state(paths["state"]) if paths["state"] else None
    except AirbyteTracedException:
        raise
    except Exception as error:  # unreadable files: the user's to fix
        raise AirbyteTracedException(message=f"source-claude could not read its input: {error}",
                                     failure_type=FailureType.config_error) from None
    return SourceClaude(catalog=catalog, config=config, state=state)


def _emit_failure(error: AirbyteTracedException) -> None:
    """The failure as one TRACE message, without the CDK's FATAL log that repeats it with a traceback.

    A config error is the user's to fix, so it goes without a stack trace; other failures keep theirs in the
    TRACE message, where Airbyte shows it as failure details. Secrets are masked.
    """
    message = error.as_sanitized_airbyte_message()
    if error.failure_type == FailureType.config_error:
        message.trace.error.stack_trace = None
    print(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode())


def run() -> None:
    """What `airbyte_cdk.entrypoint.launch` does, with the source built from the arguments and our entrypoint."""
    args = sys.argv[1:]
    if not args:
        sys.exit("usage: source-claude {spec,check,discover,read} [--config CONFIG] [--catalog CATALOG] "
                 "[--state STATE] [--debug]; see source-claude --help")
    try:
        source = _source_from_args(args)
        entrypoint = SourceClaudeEntrypoint(source)
        parsed_args = entrypoint.parse_args(args)
        with PRINT_BUFFER:
            for message in entrypoint.run(parsed_args):
                print(f"{message}\n", end="")
    except AirbyteTracedException as error:
        _emit_failure(error)
        sys.exit(1)
