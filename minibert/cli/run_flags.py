"""The flags that describe a run, built from the config's fields, and the RunConfig they give.

Each setting declares its flag and help once, on its field (`minibert.config.option`).
The fields fall in groups; a command takes some of them (`COMMAND_GROUPS`): `train`
every group, `pretrain` the model and pretraining ones, `finetune` the fine-tuning
ones, laid over the pretrained run's config (`config_from_args`). A flag sets each
field that declares it in the command's groups: `train --batch-size` sets
pretraining's and fine-tuning's batch, `pretrain --batch-size` pretraining's alone.
"""

import argparse
import dataclasses

from minibert.config import RunConfig, get_preset

# --help's section for each group; None: the command's own options.
GROUPS = {
    "run": None,
    "budget": None,
    "model": "model (default: the preset's)",
    "pretraining": "pretraining",
    "fine-tuning": "fine-tuning",
    "speed": "speed",
}
# A field's group unless its `option` names another: its section's.
SECTION_GROUPS = {"model": "model", "pretrain": "pretraining", "finetune": "fine-tuning"}
COMMAND_GROUPS = {
    "train": ("run", "budget", "model", "pretraining", "fine-tuning", "speed"),
    "pretrain": ("run", "budget", "model", "pretraining", "speed"),
    "finetune": ("run", "fine-tuning", "speed"),
}


def positive_int(text):
    """argparse's type for counts that may be 0 (epochs, layers)."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def settings():
    """`(section, field, group)` for every setting with a flag; section None: RunConfig's own.

    Example:
    >>> [(section, field.name) for section, field, _ in settings()][:2]
    [('model', 'vocabulary_size'), ('model', 'sequence_length')]
    """
    found = []
    for outer in dataclasses.fields(RunConfig):
        if dataclasses.is_dataclass(outer.type):
            found += [(outer.name, field) for field in dataclasses.fields(outer.type)]
        else:
            found.append((None, outer))
    return [
        (section, field, field.metadata.get("group", SECTION_GROUPS.get(section)))
        for section, field in found if "flag" in field.metadata
    ]


def destination(flag: str) -> str:
    """The argparse attribute a flag's value lands in: `--max-length` -> `max_length`."""
    return flag.removeprefix("--").replace("-", "_")


def _argparse_options(field) -> dict:
    """`add_argument`'s keywords for a setting: from its annotation and its `option` metadata."""
    metadata = field.metadata
    # Every default is None: a flag left out leaves the preset's or the run's value.
    options = {"dest": destination(metadata["flag"]), "default": None, "help": metadata["help"]}
    if metadata.get("store_true"):
        return {**options, "action": "store_true"}
    if field.type in (bool, bool | str):
        return {**options, "action": argparse.BooleanOptionalAction}
    if field.type == tuple[str, ...]:
        return {**options, "action": "append"}
    if "choices" in metadata:
        return {**options, "choices": metadata["choices"]}
    if metadata.get("count"):
        return {**options, "type": positive_int}
    kinds = [kind for kind in (int, float, str) if field.type in (kind, kind | None)]
    if len(kinds) != 1:
        raise TypeError(f"{field.name}: no command-line type for {field.type}; "
                        "give option() choices or count")
    return {**options, "type": kinds[0]}


def add_run_flags(parser, command: str) -> None:
    """`command`'s groups of run flags (`COMMAND_GROUPS`), each flag once, in --help's order."""
    added = set()
    for group in COMMAND_GROUPS[command]:
        title = GROUPS[group]
        target = parser if title is None else parser.add_argument_group(title)
        for _, field, field_group in settings():
            flag = field.metadata["flag"]
            if field_group == group and flag not in added:
                added.add(flag)
                target.add_argument(flag, **_argparse_options(field))


def config_from_args(args, base: RunConfig | None = None) -> RunConfig:
    """`base` (default: the preset), with every flag the user gave laid over it.

    A flag left out is None and changes nothing: the preset's or the
    pretrained run's value stays (`finetune --from RUN` keeps RUN's seed).
    """
    base = base if base is not None else get_preset(args.preset)
    groups = COMMAND_GROUPS[getattr(args, "command", "train")]
    changes = {"model": {}, "pretrain": {}, "finetune": {}, None: {}}
    for section, field, group in settings():
        value = getattr(args, destination(field.metadata["flag"]), None)
        if value is None or group not in groups:
            continue
        if field.metadata.get("zero_is_none") and value == 0:
            value = None  # --minutes 0 turns the preset's budget off
        elif isinstance(value, list):
            value = tuple(value)  # a repeated flag
        changes[section][field.name] = value
    sections = {
        section: dataclasses.replace(getattr(base, section), **changes[section])
        for section in ("model", "pretrain", "finetune")
    }
    return dataclasses.replace(base, **sections, **changes[None])
