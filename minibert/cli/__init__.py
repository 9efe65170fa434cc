"""`python -m minibert`: train, pretrain, finetune, predict, export, evaluate, fill-mask, nsp,
plot, embed, bench, baseline.

`arguments.py` builds the parser and turns flags into a `RunConfig`;
`commands.py` holds one function per command and the `COMMANDS` table that
`main` dispatches on.
"""

import sys

from minibert.cli.arguments import build_parser
from minibert.cli.run_flags import config_from_args
from minibert.cli.commands import COMMANDS, load_data
from minibert.cli.termination import Terminated, sigterm_raises_terminated
from minibert.runs.files import is_write_failure, write_failure_message


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    # Input problems end in one line naming the problem and the fix, not a traceback.
    try:
        with sigterm_raises_terminated():
            COMMANDS[args.command](args)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
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


__all__ = ["COMMANDS", "build_parser", "config_from_args", "load_data", "main"]
