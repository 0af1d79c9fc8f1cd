"""Compensation schemes declared in TOML, parsed into frozen typed objects (see docs/schemes.md).

``parse``: the file, every problem at once, the canonical form and its hash; ``families``: the keys of
each family, F5 pool sizing, the F8 constraint layer and the F3 weighting; ``model``: the typed shapes;
``catalogue``: the families and their vocabularies; ``explain``: a scheme's formula with its numbers.
"""

from ledger.schemes.catalogue import FAMILIES, FAMILY_CODES, POOL_FAMILIES
from ledger.schemes.model import (
    DEFAULT_EXCLUDE_PATHS,
    VERIFICATIONS,
    AttributionShare,
    Constraints,
    Fte,
    MultiPot,
    OperatorPools,
    PerFetch,
    PoolProRata,
    PoolWeighted,
    Qualifying,
    ReferralGap,
    Scheme,
    Shapley,
    Sizing,
    Weighting,
)
from ledger.schemes.parse import SchemeFile, load_schemes, parse_data, parse_schemes, scheme_from_canonical

__all__ = [
    "DEFAULT_EXCLUDE_PATHS",
    "FAMILIES",
    "FAMILY_CODES",
    "POOL_FAMILIES",
    "VERIFICATIONS",
    "AttributionShare",
    "Constraints",
    "Fte",
    "MultiPot",
    "OperatorPools",
    "PerFetch",
    "PoolProRata",
    "PoolWeighted",
    "Qualifying",
    "ReferralGap",
    "Scheme",
    "SchemeFile",
    "Shapley",
    "Sizing",
    "Weighting",
    "load_schemes",
    "parse_data",
    "parse_schemes",
    "scheme_from_canonical",
]
