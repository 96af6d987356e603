"""Dataclass configs from YAML/dicts, with errors that name the key and the expected type."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from facealign.errors import ConfigError

T = TypeVar("T")

# Configs and schemes are small; a larger text is refused before it is parsed.
MAX_YAML_BYTES = 1 << 20


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML text as plain data (``yaml.safe_load``), refusing aliases (``*name``).

    An alias repeats a node without copying it, so a 1 KB document of nested aliases expands to
    billions of values when anything walks or prints it; facealign's configs never need one.

    Raises:
        ConfigError: too large, not valid YAML, or an alias (naming ``source`` and the line).
    """
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise ConfigError(f"{source}: line {mark.line + 1}: YAML aliases (*name) are not accepted; "
                                  "write the value out")
            return super().compose_node(parent, index)

    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(f"{source}: {len(text)} characters, over the limit of {MAX_YAML_BYTES} for a config")
    try:
        return yaml.load(text, Loader=NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        where = f"line {e.problem_mark.line + 1}: " if getattr(e, "problem_mark", None) else ""
        raise ConfigError(f"{source}: {where}not valid YAML ({getattr(e, 'problem', None) or 'parse error'})") from None
    except RecursionError:
        raise ConfigError(f"{source}: YAML nested too deeply") from None


def dataclass_from_dict(cls: type[T], d: Any, source: str = "config", prefix: str = "") -> T:
    """Build dataclass ``cls`` from a mapping; nested dataclasses recurse.

    Raises:
        ConfigError: unknown key, or a value of the wrong type (the key path is named).
    """
    if not isinstance(d, dict):
        raise ConfigError(f"{source}: {prefix or 'config'} must be a mapping, got {type(d).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]  # T is a dataclass type
    unknown = sorted(set(d) - names)
    if unknown:
        raise ConfigError(f"{source}: unknown key '{prefix}{unknown[0]}'; allowed: {sorted(names)}")
    kwargs = {}
    for key, value in d.items():
        kwargs[key] = _coerce(hints[key], value, source, f"{prefix}{key}")
    return cls(**kwargs)


def _coerce(tp: Any, value: Any, source: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return dataclass_from_dict(typing.cast(type, tp), value, source, key + ".")
    if origin in (typing.Union, types.UnionType):
        errors = []
        for a in args:
            if a is type(None):
                if value is None:
                    return None
                continue
            try:
                return _coerce(a, value, source, key)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(f"{source}: {key} = {value!r} has the wrong type (expected {_name(tp)})")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{source}: {key} = {value!r}; choose one of {list(args)}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{source}: {key} must be a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(f"{source}: {key} needs {len(args)} values, got {len(value)}")
            return tuple(_coerce(a, v, source, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        inner = args[0] if args else Any
        seq = [_coerce(inner, v, source, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(seq) if origin is tuple else seq
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {key} must be a mapping, got {value!r}")
        return dict(value)
    if tp in _SCALARS:
        kinds, what = _SCALARS[tp]
        # bool is an int in Python, but never a valid number in a config
        if not isinstance(value, kinds) or (tp is not bool and isinstance(value, bool)):
            raise ConfigError(f"{source}: {key} must be {what}, got {value!r}")
        return float(typing.cast(float, value)) if tp is float else value
    return value


_SCALARS: dict[Any, tuple[tuple[type, ...], str]] = {
    float: ((int, float), "a number"),
    int: ((int,), "an integer"),
    bool: ((bool,), "true or false"),
    str: ((str,), "a string"),
    dict: ((dict,), "a mapping"),
}


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")
