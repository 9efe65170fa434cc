"""`python -m minibert`: train, pretrain, finetune, predict, export, evaluate, fill-mask, nsp,
plot, embed, bench, baseline.

`arguments.py` builds the parser and `run_flags.py` turns flags into a
`RunConfig`; neither imports TensorFlow, so `--help` answers at once.
`commands.py` holds one function per command and the `COMMANDS` table that
`main` dispatches on; it is imported once the flags parse, with every class
a saved model needs registered (`minibert.register_every_class`) and
without TensorFlow's start-up lines (`start_up_lines.py`).
"""

import importlib
import sys

import minibert
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

    `python -m minibert` starts without them (`minibert/__init__.py`).
    """
    minibert.register_every_class()
    return importlib.import_module("minibert.cli.commands")


__all__ = ["build_parser", "config_from_args", "main"]
