"""The config's JSON schema and its messages: each names the key path (``models[0].arch``), the bad value and
what would be valid, so that a typo is found by a dry run, not after ten models have trained.

:func:`check_schema` checks a config against the schema, with unknown keys answered by a "did you mean" and
jsonschema's messages rewritten; the config is not changed. Pure Python without torch.
"""

import difflib
import functools
import math
from pathlib import Path


class ConfigError(ValueError):
    """The config holds a value that cannot work, or names something the study lacks."""


TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}
LISTED = 20  # at most this many valid values are spelled out in a message


def key_path(parts) -> str:
    """models[0].arch from ("models", 0, "arch"); "the config" for the top level."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "the config"


def show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def listing(values) -> str:
    values = [str(value) for value in values]
    if len(values) > LISTED:
        return ", ".join(values[:LISTED]) + f", ... ({len(values)} in all)"
    return ", ".join(values) or "none"


def did_you_mean(value, valid) -> str:
    matches = difflib.get_close_matches(str(value), [str(v) for v in valid], n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(m) for m in matches)}?)" if matches else ""


def not_in_study(path, value, valid, what: str) -> ConfigError:
    """The error for a name that refers to something the study does not have."""
    return ConfigError(
        f"{key_path(path)}: {show(value)} is not {what}{did_you_mean(value, valid)}; "
        f"valid: {listing(valid)}"
    )


def type_of(value) -> str:
    for name, kind in (
        ("boolean", bool),
        ("integer", int),
        ("number", float),
        ("string", str),
        ("array", list),
        ("object", dict),
    ):
        if isinstance(value, kind):
            return TYPE_NAMES[name]
    return "null" if value is None else type(value).__name__


def accepted_values(schema: dict, root: dict) -> str:
    """What a schema accepts, in a few words: "an integer >= 1", "one of cpu, cuda"; root resolves $ref."""
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{key: value for key, value in schema.items() if key != "$ref"}}
        return accepted_values(schema, root)
    if "title" in schema:
        return schema["title"]
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if alternatives:
        return " or ".join(accepted_values(alternative, root) for alternative in alternatives)
    if "enum" in schema:
        return "one of " + ", ".join(str(value) for value in schema["enum"])
    types = schema.get("type", [])
    text = (
        " or ".join(TYPE_NAMES[t] for t in ([types] if isinstance(types, str) else types))
        or "a value"
    )
    low = [f">= {schema['minimum']}"] if "minimum" in schema else []
    low += [f"> {schema['exclusiveMinimum']}"] if "exclusiveMinimum" in schema else []
    high = [f"<= {schema['maximum']}"] if "maximum" in schema else []
    high += [f"< {schema['exclusiveMaximum']}"] if "exclusiveMaximum" in schema else []
    if "minimum" in schema and "maximum" in schema:
        text += f" from {schema['minimum']} to {schema['maximum']}"
    elif low or high:
        text += " " + " and ".join(low + high)
    if "pattern" in schema:
        text += f" matching {schema['pattern']}"
    details = [f"each item {accepted_values(schema['items'], root)}"] if "items" in schema else []
    details += [f"at least {schema['minItems']} item(s)"] if "minItems" in schema else []
    details += ["no repeats"] if schema.get("uniqueItems") else []
    details += [f"at least {schema['minProperties']} entry"] if "minProperties" in schema else []
    return text + (f" ({'; '.join(details)})" if details else "")


def explain(error, root: dict) -> str:
    """A jsonschema ValidationError as: key path, bad value, what would be valid (root: the whole schema)."""
    if error.parent is not None and error.parent.validator in ("oneOf", "anyOf"):
        error = error.parent  # say every alternative, not the one that failed last
    path = list(error.absolute_path)
    schema = error.schema
    if error.validator == "additionalProperties":
        known = list(schema.get("properties", {}))
        key = next(key for key in error.instance if key not in known)
        return (
            f"{key_path(path + [key])}: unknown key{did_you_mean(key, known)}; "
            f"valid keys {'of ' + key_path(path) if path else 'at the top level'}: {listing(known)}"
        )
    if error.validator == "required":
        key = next(key for key in error.validator_value if key not in error.instance)
        wanted = (
            accepted_values(schema["properties"][key], root)
            if key in schema.get("properties", {})
            else "a value"
        )
        return f"{key_path(path)}: the required key {key!r} is missing; valid: {key}: {wanted}"
    value = error.instance
    if error.validator == "type":
        problem = f"is {type_of(value)}"
        if isinstance(value, str) and is_number(value):
            problem += f" (YAML reads {value} as text; write it with a dot and a signed exponent, such as 1.0e-4)"
    elif error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        problem = "is out of range"
    elif error.validator == "enum":
        problem = "is not a valid choice" + did_you_mean(value, schema["enum"])
    elif error.validator in ("minItems", "minProperties"):
        problem = "is empty"
    elif error.validator == "uniqueItems":
        problem = "repeats an item"
    else:
        problem = "is not valid"
    return f"{key_path(path)}: {show(value)} {problem}; valid: {accepted_values(schema, root)}"


def is_number(text: str) -> bool:
    """True for text such as 1e-4, which YAML 1.1 reads as a string."""
    try:
        float(text)
    except ValueError:
        return False
    return any(character.isdigit() for character in text)


@functools.cache
def load_schema(path) -> dict:
    import yaml

    # libyaml where PyYAML has it: every plan reads the schema
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(Path(path).read_text(), Loader=loader)


@functools.cache
def strict_validator_class():
    """Draft 2020-12 where an integer is an int: 10.0 epochs and true as a seed are refused."""
    from jsonschema import Draft202012Validator, validators

    def is_integer(checker, instance):
        return isinstance(instance, int) and not isinstance(instance, bool)

    type_checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", is_integer)
    return validators.extend(Draft202012Validator, type_checker=type_checker)


def check_schema(config: dict, schema_path) -> None:
    """Raise ConfigError for the first key the schema refuses; unknown keys come first."""
    from jsonschema.exceptions import best_match

    check_finite(config, [])
    schema = load_schema(str(schema_path))
    errors = list(strict_validator_class()(schema).iter_errors(config))
    unknown = sorted(
        (e for e in errors if e.validator == "additionalProperties"),
        key=lambda e: len(e.absolute_path),
    )
    if unknown or errors:
        raise ConfigError(explain(unknown[0] if unknown else best_match(errors), schema))


def check_finite(value, path) -> None:
    """NaN and infinity pass every bound of a schema; refuse them here."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(
            f"{key_path(path)}: {value} is not a finite number; valid: a finite number"
        )
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        check_finite(child, path + [key])
