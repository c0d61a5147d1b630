"""YAML for the tests: libyaml's parser and emitter where PyYAML has them (a whole lock or lanes.yaml takes the pure
Python parser a second or more, and many tests read one)."""

from __future__ import annotations

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load_yaml(text: str):
    """``yaml.safe_load``, faster."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 (a SafeLoader)


def dump_yaml(data, **options) -> str:
    """``yaml.safe_dump``, faster (keys in the data's order unless ``sort_keys`` says otherwise)."""
    return yaml.dump(data, Dumper=_DUMPER, **{"sort_keys": False, **options})
