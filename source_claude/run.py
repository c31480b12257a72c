import sys
from typing import List, NoReturn

import orjson

from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import FailureType
from airbyte_cdk.models.airbyte_protocol_serializers import AirbyteMessageSerializer
from airbyte_cdk.utils.airbyte_secrets_utils import update_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_claude.components import whole_config_rules
from source_claude.source import SourceClaude


def _source(args: List[str]) -> SourceClaude:
    """The source built with config, catalog and state (the CDK reads them only at construction); if it cannot be,
    the process ends as the protocol asks: a config error is a FAILED connection status for check (exit 0), else an
    error TRACE without a stack trace, since it is the user's to fix (exit 1)."""
    paths = {name: getattr(AirbyteEntrypoint, f"extract_{name}")(args) for name in ("config", "catalog", "state")}
    try:
        config = SourceClaude.read_config(paths["config"]) if paths["config"] else None
        # Masked in every message from here on; api_key is a 0.0.x config's key.
        keys = [config.get(name) for name in ("admin_api_key", "api_key")] if config else []
        update_secrets([key for key in keys if isinstance(key, str) and key])
        catalog = SourceClaude.read_catalog(paths["catalog"]) if paths["catalog"] else None
        state = SourceClaude.read_state(paths["state"]) if paths["state"] else None
    except Exception as error:  # unreadable files: the user's to fix
        _exit_with(args, AirbyteTracedException(message=f"source-claude could not read its input: {error}",
                                                failure_type=FailureType.config_error))
    try:
        if config == {}:
            whole_config_rules(config)  # an empty config, which the source takes for none (as spec has)
        return SourceClaude(catalog=catalog, config=config, state=state)
    except AirbyteTracedException as failure:
        _exit_with(args, failure)


def _exit_with(args: List[str], failure: AirbyteTracedException) -> NoReturn:
    message = failure.as_sanitized_airbyte_message()
    if failure.failure_type == FailureType.config_error:
        message.trace.error.stack_trace = None
    status = failure.as_connection_status_message() if args[0] == "check" else None
    print(orjson.dumps(AirbyteMessageSerializer.dump(status or message)).decode())
    sys.exit(0 if status else 1)


def run() -> None:
    args = sys.argv[1:]
    if not args:
        sys.exit("usage: source-claude {spec,check,discover,read} [--config CONFIG] [--catalog CATALOG] "
                 "[--state STATE] [--debug]; see source-claude --help")
    launch(_source(args), args)
