"""Entities from per-word tags: the chunking rules of CoNLL's `conlleval`, one place for all.

The tagging metrics (`minibert.tasks.token_classification.metrics`) score these
entities, and the end-to-end tagger (`minibert.models.EndToEndTagger`)
returns them, so that what a run is scored on is what it predicts.

How tags become entities follows conlleval, the field's reference, rather
than a strict reading of the scheme. A chunk starts at `B-`, at `S-`, and at an
`I-` (or `E-`) after `O` or after a tag of another type; it ends before `B-`,
`S-`, `O` or another type, and after `E-` or `S-`. So an ill-formed `O I-person`
still counts as a person starting at the `I-`, which is how conlleval and
seqeval's default mode score a model that predicts it; a strict reading would
drop that entity and so score a model on different entities from the papers
it is compared with. conlleval itself knows no `S-`, and reads `E-` as the IOE
scheme's; the `E-`/`S-` rules here are those of seqeval's port of conlleval.

IOB1 and IOB2 chunk alike under these rules (IOB1's `B-` only separates two
touching entities of one type); `scheme` says which prefixes a tag may carry,
so that tags of another scheme are named rather than scored wrongly.
"""

SCHEME_PREFIXES = {"IOB1": ("B", "I"), "IOB2": ("B", "I"), "IOBES": ("B", "I", "E", "S")}


def entities(tags, scheme="IOB2") -> list:
    """The entities of one sentence's tags, as `(type, start, end)` spans.

    `end` is exclusive: `tags[start:end]` are the entity's words. Types may hold
    hyphens (`B-creative-work` is of type `creative-work`).

    Args:
        tags: one tag per word, `"O"` or a prefix, a hyphen and a type.
        scheme: `"IOB1"`, `"IOB2"` (BIO) or `"IOBES"`: which prefixes are allowed.

    Example:
    >>> entities(["B-person", "I-person", "O", "B-location", "B-location"])
    [('person', 0, 2), ('location', 3, 4), ('location', 4, 5)]
    >>> entities(["O", "I-group", "I-person"])  # an I- after O or another type starts one
    [('group', 1, 2), ('person', 2, 3)]
    >>> entities(["S-person", "B-product", "E-product", "E-product"], scheme="IOBES")
    [('person', 0, 1), ('product', 1, 3), ('product', 3, 4)]
    """
    prefixes = _scheme_prefixes(scheme)
    spans = []
    previous_prefix, previous_type, start = "O", "", 0
    # A trailing "O" closes the last entity, as conlleval's sentence break does.
    for position, tag in enumerate([*tags, "O"]):
        prefix, entity_type = _split_tag(tag, position, prefixes, scheme)
        if _ends_chunk(previous_prefix, prefix, previous_type, entity_type):
            spans.append((previous_type, start, position))
        if _starts_chunk(previous_prefix, prefix, previous_type, entity_type):
            start = position
        previous_prefix, previous_type = prefix, entity_type
    return spans


def _ends_chunk(previous_prefix, prefix, previous_type, entity_type) -> bool:
    """Whether an entity ended on the previous word (conlleval's `endOfChunk`)."""
    if previous_prefix == "O":
        return False
    return (
        previous_prefix in ("E", "S")
        or prefix in ("B", "S", "O")
        or previous_type != entity_type
    )


def _starts_chunk(previous_prefix, prefix, previous_type, entity_type) -> bool:
    """Whether an entity starts on this word (conlleval's `startOfChunk`)."""
    if prefix == "O":
        return False
    return (
        prefix in ("B", "S")
        or previous_prefix in ("O", "E", "S")
        or previous_type != entity_type
    )


def _scheme_prefixes(scheme) -> tuple:
    if scheme not in SCHEME_PREFIXES:
        raise ValueError(f"scheme {scheme!r} is not one of {sorted(SCHEME_PREFIXES)}")
    return SCHEME_PREFIXES[scheme]


def _split_tag(tag, position, prefixes, scheme) -> tuple:
    """`("O", "")` or `(prefix, type)`; any other tag is refused in one line."""
    if tag == "O":
        return "O", ""
    prefix, hyphen, entity_type = str(tag).partition("-")
    if prefix not in prefixes or not hyphen or not entity_type:
        allowed = "/".join(f"{prefix}-" for prefix in prefixes)
        raise ValueError(
            f"tag {tag!r} at word {position} is not 'O' or {allowed} and a type, as {scheme} "
            f"tags are; pass the scheme the tags were written in (one of {sorted(SCHEME_PREFIXES)})"
        )
    return prefix, entity_type
