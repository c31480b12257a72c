import sys
import time
import traceback
from typing import Any, List, Mapping, Optional

import orjson

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteTraceMessage,
    ConnectorSpecification,
    FailureType,
    TraceType,
    Type,
)
from airbyte_cdk.models.airbyte_protocol_serializers import AirbyteMessageSerializer
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets, update_secrets
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


def _source_from_args(args: List[str]) -> Optional[SourceClaude]:
    """Builds the source with config, catalog and state (CDK 7 reads them only at construction)."""
    try:
        paths = {name: getattr(AirbyteEntrypoint, f"extract_{name}")(args) for name in ("config", "catalog", "state")}
        config = SourceClaude.read_config(paths["config"]) if paths["config"] else None
        if config:
            update_secrets([config["admin_api_key"]] if isinstance(config.get("admin_api_key"), str) else [])
        catalog = SourceClaude.read_catalog(paths["catalog"]) if paths["catalog"] else None
        state = SourceClaude.read_state(paths["state"]) if paths["state"] else None
        return SourceClaude(catalog=catalog, config=config, state=state)
    except Exception as error:
        _emit_start_failure(error)
        return None


def _emit_start_failure(error: Exception) -> None:
    traced = error if isinstance(error, AirbyteTracedException) else None
    message = traced.message if traced and traced.message else f"source-claude could not start: {error}"
    trace = AirbyteTraceMessage(
        type=TraceType.ERROR,
        emitted_at=time.time() * 1000,
        error=AirbyteErrorTraceMessage(
            message=filter_secrets(message),
            internal_message=filter_secrets(repr(error)),
            stack_trace=filter_secrets(traceback.format_exc()),
            failure_type=traced.failure_type if traced else FailureType.config_error,
        ),
    )
    print(orjson.dumps(AirbyteMessageSerializer.dump(AirbyteMessage(type=Type.TRACE, trace=trace))).decode())


def run() -> None:
    """What `airbyte_cdk.entrypoint.launch` does, with the source built from the arguments and our entrypoint."""
    args = sys.argv[1:]
    source = _source_from_args(args)
    if source is None:
        sys.exit(1)
    entrypoint = SourceClaudeEntrypoint(source)
    parsed_args = entrypoint.parse_args(args)
    try:
        with PRINT_BUFFER:
            for message in entrypoint.run(parsed_args):
                print(f"{message}\n", end="")
    except AirbyteTracedException as error:
        if error.failure_type != FailureType.config_error:
            raise  # the CDK's handler reports it, stack trace included, for whoever debugs it
        # A config error is the user's to fix: the one sentence, no stack trace.
        message = error.as_sanitized_airbyte_message()
        message.trace.error.stack_trace = None
        print(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode())
        sys.exit(1)
