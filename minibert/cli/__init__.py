"""`python -m minibert`: train, pretrain, finetune, predict, export, evaluate, fill-mask, nsp,
plot, embed, bench, baseline.

`arguments.py` builds the parser and `run_flags.py` turns flags into a
`RunConfig`; neither imports TensorFlow, so `--help` answers at once.
`commands.py` holds one function per command and the `COMMANDS` table that
`main` dispatches on; it is imported once the flags parse, without
TensorFlow's start-up lines (`start_up_lines.py`).
"""

import sys

from minibert.allocator import reexecute_with_allocator
from minibert.cli.arguments import build_parser
from minibert.cli.run_flags import config_from_args
from minibert.cli.start_up_lines import quiet_tensorflow_start
from minibert.termination import Terminated, sigterm_raises_terminated


def main(argv=None) -> int:
    if argv is None:  # a process of its own: its allocator is still to choose (minibert.allocator)
        try:
            reexecute_with_allocator()
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    args = build_parser().parse_args(argv)
    with quiet_tensorflow_start():
        commands = _import_commands()
    # Input problems end in one line naming the problem and the fix, not a traceback.
    try:
        with sigterm_raises_terminated():
            commands.COMMANDS[args.command](args)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        # minibert.runs imports TensorFlow: --help must not wait for it.
        from minibert.runs.files import is_write_failure, write_failure_message

        # A write outside minibert's own (Keras' checkpoints, TensorBoard's
        # events) that the disk refused: one line too. Any other OSError is a bug.
        if not is_write_failure(error):
            raise
        print(f"error: {write_failure_message(error.filename or 'a file', error)}", file=sys.stderr)
        return 2
    except Terminated:  # docker stop, Kubernetes, Slurm: 128 + 15, as if SIGTERM had ended it
        print("terminated (SIGTERM): run the same command again to resume", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def _import_commands():
    """The commands, with every class a saved model is rebuilt from registered with Keras.

    `python -m minibert` starts without the package's imports
    (`minibert/__init__.py`); `keras.models.load_model` finds a saved model's
    classes by the names their modules register when imported.
    """
    from minibert import models  # noqa: F401  (the models and the layers they hold)
    from minibert.cli import commands
    from minibert.data import word_piece  # noqa: F401
    from minibert.training import optimization  # noqa: F401  (a saved optimizer's schedule)

    return commands


def __getattr__(name):
    # COMMANDS and load_data live with the commands, which import TensorFlow.
    if name in ("COMMANDS", "load_data"):
        return getattr(_import_commands(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["COMMANDS", "build_parser", "config_from_args", "load_data", "main"]
