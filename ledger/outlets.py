"""The outlet registry: who the outlets are, which domains are theirs, and host -> outlet resolution."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from ledger.errors import ConfigError, InputError, NotFoundError
from ledger.store.db import Ledger, now

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
NUMBER_SCALE = {"fte": (12, 2), "regional_fte": (12, 2), "rpm": (18, 4)}  # DECIMAL(digits, places) in the ledger
CSV_COLUMNS = ("slug", "name", "domains", "country", "language", "fte", "regional_fte", "group", "rpm")
GROUP_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_REQUIRED = ("slug", "name", "domains")


@dataclass(frozen=True)
class Outlet:
    slug: str
    name: str
    domains: tuple[str, ...]
    country: str | None = None
    language: str | None = None
    fte: Decimal | None = None
    regional_fte: Decimal | None = None
    group: str | None = None
    rpm: Decimal | None = None  # revenue per 1,000 visits (referral value, scheme family referral_gap)


def normalise_domain(domain: str) -> str:
    value = domain.strip().lower().rstrip(".")
    value = re.sub(r"^https?://", "", value).split("/")[0].split(":")[0]
    return value.removeprefix("www.")


def validate_outlet(outlet: Outlet, where: str = "") -> Outlet:
    prefix = f"{where}: " if where else ""
    if not SLUG_RE.match(outlet.slug):
        raise ConfigError(
            f"{prefix}slug '{outlet.slug}' must be lower case letters, digits, '-' or '_' (e.g. 'tengrinews')"
        )
    if not outlet.name.strip():
        raise ConfigError(f"{prefix}outlet '{outlet.slug}' needs a name")
    domains = tuple(dict.fromkeys(normalise_domain(d) for d in outlet.domains if d.strip()))
    if not domains:
        raise ConfigError(f"{prefix}outlet '{outlet.slug}' needs at least one domain (e.g. --domain example.kz)")
    for domain in domains:
        if not DOMAIN_RE.match(domain):
            raise ConfigError(f"{prefix}'{domain}' is not a valid domain name (outlet '{outlet.slug}')")
    if outlet.group is not None and not GROUP_RE.match(outlet.group):
        raise ConfigError(
            f"{prefix}group '{outlet.group}' must be lower case letters, digits, '-' or '_'"
            f" (e.g. 'broadcaster', 'public_broadcaster'; outlet '{outlet.slug}')"
        )
    for label, value in (("fte", outlet.fte), ("regional_fte", outlet.regional_fte), ("rpm", outlet.rpm)):
        if value is None:
            continue
        if value < 0:
            raise ConfigError(f"{prefix}{label} must be zero or more, got {value} (outlet '{outlet.slug}')")
        digits, places = NUMBER_SCALE[label]
        if value != value.quantize(Decimal(1).scaleb(-places)) or value >= Decimal(10) ** (digits - places):
            raise ConfigError(
                f"{prefix}{label} {value} does not fit the ledger's {places} decimal places and {digits} digits"
                f" (outlet '{outlet.slug}'); round it"
            )
    return Outlet(
        outlet.slug,
        outlet.name.strip(),
        domains,
        outlet.country,
        outlet.language,
        outlet.fte,
        outlet.regional_fte,
        outlet.group,
        outlet.rpm,
    )


def save_outlets(ledger: Ledger, outlets: list[Outlet], *, replace: bool = False) -> None:
    """Add outlets (or, with ``replace``, update existing ones) in one transaction."""
    with ledger.transaction():
        for outlet in outlets:
            exists = ledger.rows("SELECT 1 FROM outlets WHERE slug = ?", [outlet.slug])
            if exists and not replace:
                raise ConfigError(f"outlet '{outlet.slug}' already exists; use 'royalty outlets import' to update it")
            for domain in outlet.domains:
                owner = ledger.rows("SELECT outlet FROM outlet_domains WHERE domain = ?", [domain])
                if owner and owner[0]["outlet"] != outlet.slug:
                    raise ConfigError(f"domain '{domain}' already belongs to outlet '{owner[0]['outlet']}'")
            params = [
                outlet.name,
                outlet.country,
                outlet.language,
                outlet.fte,
                outlet.regional_fte,
                outlet.group,
                outlet.rpm,
            ]
            if exists:
                ledger.execute(
                    "UPDATE outlets SET name = ?, country = ?, language = ?, fte = ?, regional_fte = ?,"
                    " group_name = ?, rpm = ? WHERE slug = ?",
                    [*params, outlet.slug],
                )
            else:
                ledger.execute(
                    "INSERT INTO outlets (slug, name, country, language, fte, regional_fte, group_name, rpm,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [outlet.slug, *params, now()],
                )
            for domain in outlet.domains:
                ledger.execute("INSERT OR IGNORE INTO outlet_domains VALUES (?, ?)", [domain, outlet.slug])


def _decimal(value: str, path: Path, line: int, key: str) -> Decimal | None:
    if not value.strip():
        return None
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        raise InputError(f"column '{key}': '{value}' is not a number", path=path, line=line) from None


def read_outlets_csv(path: Path) -> list[Outlet]:
    """Outlets from a CSV with a header (slug,name,domains[,country,language,fte,regional_fte,group,rpm]).

    ``domains`` holds one or more domains separated by ';' or spaces.
    """
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", path=path) from exc
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in _REQUIRED if c not in header]
        unknown = [c for c in header if c not in CSV_COLUMNS]
        if missing or unknown:
            problem = f"missing columns {missing}" if missing else f"unknown columns {unknown}"
            raise InputError(f"{problem}; the header must use {', '.join(CSV_COLUMNS)}", path=path, line=1)
        outlets = []
        for row in reader:
            line = reader.line_num
            values = {k.strip(): (v or "") for k, v in row.items() if k is not None}
            outlet = Outlet(
                slug=values["slug"].strip(),
                name=values["name"],
                domains=tuple(re.split(r"[;\s]+", values["domains"].strip())),
                country=values.get("country") or None,
                language=values.get("language") or None,
                fte=_decimal(values.get("fte", ""), path, line, "fte"),
                regional_fte=_decimal(values.get("regional_fte", ""), path, line, "regional_fte"),
                group=values.get("group") or None,
                rpm=_decimal(values.get("rpm", ""), path, line, "rpm"),
            )
            try:
                outlets.append(validate_outlet(outlet))
            except ConfigError as exc:
                raise InputError(exc.message, path=path, line=line) from None
    if not outlets:
        raise InputError("no outlets in the file (only a header?)", path=path)
    return outlets


def list_outlets(ledger: Ledger) -> list[dict[str, object]]:
    return ledger.rows(
        "SELECT o.slug, o.name, string_agg(d.domain, ' ' ORDER BY d.domain) AS domains, o.country, o.language,"
        ' o.fte, o.regional_fte, o.group_name AS "group", o.rpm FROM outlets o LEFT JOIN outlet_domains d'
        " ON d.outlet = o.slug GROUP BY ALL ORDER BY o.slug"
    )


def require_outlet(ledger: Ledger, slug: str) -> None:
    if not ledger.rows("SELECT 1 FROM outlets WHERE slug = ?", [slug]):
        known = [r["slug"] for r in ledger.rows("SELECT slug FROM outlets")]
        raise NotFoundError("outlet", slug, known, "Add it with 'royalty outlets add'.")


class DomainResolver:
    """Maps request hosts to outlets: exact domain, or a subdomain of one (www., m., amp.)."""

    def __init__(self, domains: dict[str, str]) -> None:
        self.table = pl.DataFrame(
            {"domain": list(domains), "outlet": list(domains.values())},
            schema={"domain": pl.String, "outlet": pl.String},
        )
        self.primary: dict[str, str] = {}
        for domain, outlet in sorted(domains.items(), key=lambda kv: (len(kv[0]), kv[0])):
            self.primary.setdefault(outlet, domain)

    @classmethod
    def from_ledger(cls, ledger: Ledger) -> DomainResolver:
        return cls({r["domain"]: r["outlet"] for r in ledger.rows("SELECT domain, outlet FROM outlet_domains")})

    def resolve(self, hosts: pl.Series) -> pl.Series:
        """Outlet slug per host (null where no outlet owns the host). Works on distinct hosts."""
        frame = pl.DataFrame({"host": hosts}).unique()
        frame = frame.with_columns(pl.col("host").alias("candidate"), pl.lit(None, dtype=pl.String).alias("outlet"))
        for _ in range(6):  # a.b.c.d.e.example.kz is deep enough
            frame = (
                frame.join(self.table.rename({"outlet": "_found"}), left_on="candidate", right_on="domain", how="left")
                .with_columns(pl.coalesce("outlet", "_found").alias("outlet"))
                .drop("_found")
                .with_columns(pl.col("candidate").str.replace(r"^[^.]*\.", "").alias("candidate"))
            )
        mapping = frame.select("host", "outlet")
        return pl.DataFrame({"host": hosts}).join(mapping, on="host", how="left", maintain_order="left")["outlet"]
