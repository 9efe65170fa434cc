"""`--objective electra`: ELECTRA's replaced-token detection (Clark et al. 2020).

A small generator masked LM fills the masked slots by sampling; the backbone,
as discriminator, says of every token whether it was replaced
(`minibert.models.ReplacedTokenDetector`). Its examples are the masked LM's:
single texts, masked the same way.
"""

from minibert.objectives.masked_lm import masked_lm_examples
from minibert.objectives.objective import Objective


def build_replaced_token_detector(backbone, config):
    """The `ReplacedTokenDetector` over `backbone` that `config` describes."""
    from minibert.models import ReplacedTokenDetector

    return ReplacedTokenDetector(
        backbone, generator_width=config.pretrain.generator_width,
        num_sampled=config.pretrain.num_sampled, seed=config.seed,
    )


REPLACED_TOKEN_DETECTION = Objective(
    name="electra",
    description="replaced-token detection (ELECTRA)",
    help="electra, a small generator fills the masks and the backbone spots every replaced "
    "token (ELECTRA)",
    build_model=build_replaced_token_detector,
    make_examples=masked_lm_examples,
)
