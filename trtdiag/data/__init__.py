"""Data tables generated from the sources by the scripts in tools/ (each row cites where it came from)."""

import json as _json
import os as _os

HERE = _os.path.dirname(_os.path.abspath(__file__))


def path(name: str) -> str:
    """The file ``name`` of this package's data (installed beside this module)."""
    return _os.path.join(HERE, name)


def text(name: str) -> str:
    with open(path(name), encoding="utf-8") as fh:
        return fh.read()


def load_json(name: str):
    """A JSON table of this package (read without importlib.resources, whose import costs the
    start-up of every command more than the read)."""
    return _json.loads(text(name))
