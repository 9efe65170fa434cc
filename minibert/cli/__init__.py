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


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    # Input problems end in one line naming the problem and the fix, not a traceback.
    try:
        COMMANDS[args.command](args)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


__all__ = ["COMMANDS", "build_parser", "config_from_args", "load_data", "main"]
