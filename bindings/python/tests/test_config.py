"""The config schema (``schema/config.schema.json``, generated from the Rust type)
accepts what the core accepts, and unknown keys are refused by both, naming the
key: Python keyword arguments are the same schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import jsonschema
import pytest

import tokenwell
from tokenwell import TokenClient

REPO = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((REPO / "schema" / "config.schema.json").read_text(encoding="utf-8"))
VECTORS = sorted((REPO / "tests" / "vectors").glob("*.json"))


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _camel_keys(value: Any, inside_free_map: bool = False) -> Any:
    if isinstance(value, dict):
        if inside_free_map:
            return dict(value)
        return {_camel(k): _camel_keys(v, k in ("extra_params", "headers", "equals")) for k, v in value.items()}
    return value


def _vector_configs() -> List[Dict[str, Any]]:
    configs: List[Dict[str, Any]] = []
    for path in VECTORS:
        vector = json.loads(path.read_text(encoding="utf-8"))
        configs.extend(vector.get("clients", {}).values())
        if "config" in vector:
            configs.append(vector["config"])
    return configs


def test_the_schema_accepts_every_vector_config_in_both_spellings() -> None:
    configs = _vector_configs()
    assert len(configs) >= 50
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for config in configs:
        validator.validate(config)
        validator.validate(_camel_keys(config))


@pytest.mark.parametrize(
    "options,key",
    [
        ({"client_secert": "x"}, "client_secert"),
        ({"policy": {"refresh_ratoi": 0.5}}, "refresh_ratoi"),
        ({"http": {"timeoutMS": 5}}, "timeoutMS"),
    ],
)
def test_unknown_keys_are_refused_by_schema_and_core_naming_the_key(options: Dict[str, Any], key: str) -> None:
    config: Dict[str, Any] = {"provider": "deliveroo", "environment": "sandbox", "client_id": "a", "client_secret": "s3cr3t-value"}
    config.update(options)
    if "client_secert" in options:
        del config["client_secret"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, SCHEMA, cls=jsonschema.Draft202012Validator)
    with pytest.raises(tokenwell.ConfigError) as info:
        TokenClient.from_config(config)
    assert key in info.value.detail
    assert "s3cr3t-value" not in str(info.value)
    # The same through keyword arguments.
    kwargs = {k: v for k, v in config.items() if k != "provider"}
    with pytest.raises(tokenwell.ConfigError) as info_kw:
        TokenClient("deliveroo", **kwargs)
    assert key in info_kw.value.detail


def _nested(depth: int) -> Dict[str, Any]:
    root: Dict[str, Any] = {}
    inner = root
    for _ in range(depth):
        inner["a"] = {}
        inner = inner["a"]
    return root


@pytest.mark.parametrize("how", ["from_config", "kwargs", "json_text"])
def test_a_config_nested_too_deeply_is_a_config_error(how: str) -> None:
    """100000 levels of mappings: the config error JSON text gets, never a
    RecursionError."""
    base = {"provider": "deliveroo", "environment": "sandbox", "client_id": "a", "client_secret": "deep-secret-1"}
    deep = _nested(100_000)
    with pytest.raises(tokenwell.ConfigError) as caught:
        if how == "from_config":
            TokenClient.from_config({**base, "extra_params": deep})
        elif how == "kwargs":
            TokenClient("deliveroo", environment="sandbox", client_id="a", client_secret="deep-secret-1", extra_params=deep)
        else:
            text = json.dumps(base)[:-1] + ', "extra_params": ' + '{"a": ' * 100_000 + "{}" + "}" * 100_000 + "}"
            TokenClient.from_config(text)
    assert caught.value.code == "config"
    assert "deep-secret-1" not in str(caught.value)
