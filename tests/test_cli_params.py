"""Every command lists its parameters (issue 19): no ``**kwargs``; each click option reaches
the command as a parameter of its own or as a field of one typed option group."""

from __future__ import annotations

import dataclasses
import inspect

import click
import pytest

from reachplan.cli.main import COMMANDS, cli


def _layers(func):
    """The callback and every function it wraps (handle_errors, pass_context, pass_groups)."""
    while func is not None:
        yield func
        func = getattr(func, "__wrapped__", None)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_lists_its_parameters(name):
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.callback is not None
    layers = list(_layers(command.callback))
    groups: dict = {}
    for layer in layers:
        groups.update(getattr(layer, "groups", {}))
    signature = inspect.signature(layers[-1])
    kinds = {p.kind for p in signature.parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds, f"{name} takes **kwargs"
    own = set(signature.parameters) - set(groups) - {"ctx"}
    fields = {f.name: group for group in groups.values() for f in dataclasses.fields(group)}
    for param in command.params:
        assert param.name in own or param.name in fields, f"{name}: {param.name} reaches nothing"
        assert not (param.name in own and param.name in fields), f"{name}: {param.name} twice"
    # a group's field that is no option of the command keeps its default; a listed parameter
    # that is no option would make click fail, so every listed parameter is an option
    options = {p.name for p in command.params}
    assert own <= options, f"{name}: {sorted(own - options)} are no options"


def test_a_group_takes_only_its_fields_and_keeps_defaults():
    from reachplan.cli.options import CentreOptions, RoadOptions

    kwargs = {"lat_col": "y", "where": ("type=van",), "profile": "walk", "output": "o.csv"}
    centre = CentreOptions.take(kwargs)
    assert (centre.lat_col, centre.where, centre.strict) == ("y", ("type=van",), False)
    road = RoadOptions.take(kwargs)
    assert (road.profile, road.max_snap_km) == ("walk", 2.0)  # 2.0: --max-snap-km's default
    assert kwargs == {"output": "o.csv"}
