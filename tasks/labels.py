"""From measurements to labels: bin edges (SpeechCraft's percentiles, or fixed edges from a config file),
frozen as versions in `bin_edges`, and the `labels` table computed against the pinned ones.

Percentile mode follows the released SpeechCraft code: pitch binned within gender (male cut at the 40th and
90th percentiles, female at the 10th and 60th), energy and speed in equal-count thirds, per language.
A group too small for percentiles (a user's first, small try) is labelled from the default edges of
bin_defaults.toml (version `defaults-v2`, docs/bins.md), and so is pitch where the gender is unknown, and
so are noise, reverberation and monotony everywhere (fixed edges: a third of a studio corpus is not noisy).
Labels are cheap (a join), so every run recomputes them all in memory and writes only the rows that changed.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from ..vocabulary import CONDITION_LABEL_NAMES, LABEL_NAMES, LANGUAGES, UNUSABLE_FLAGS, measure_unit
from ..warehouse import Lakehouse
from ..warehouse import bins
from ..warehouse.schema import attribute_table
from . import attributes  # noqa: F401 (declares the attribute tables the condition labels read)

MIN_POPULATION = 20           # fewer clips than this in a group: no percentile edges, the default edges
# The default edges ship inside the package (docs/bins-fixed.toml links here). A frozen version is never
# edited, so a change to the file must come with a new version name.
DEFAULT_EDGES = Path(__file__).with_name("bin_defaults.toml")
DEFAULT_VERSION = "defaults-v2"       # v1 had no noise, reverberation or monotony edges


@dataclass(frozen=True)
class Attribute:
    column: str                           # the measurement binned
    names: tuple[str, str, str]           # below low_edge, between, at or above high_edge
    by_gender: bool = False
    table: str = "acoustics"              # where the measurement is stored (keyed by clip_id)


ATTRIBUTES = {
    "pitch": Attribute("f0_mean_hz", LABEL_NAMES["pitch"], by_gender=True),
    "energy": Attribute("energy_db", LABEL_NAMES["energy"]),
    "speed": Attribute("speech_rate", LABEL_NAMES["speed"]),
    # recording conditions and delivery: fixed edges only (bin_defaults.toml), never percentiles of a corpus:
    # a third of a studio corpus is not "noisy"
    "noise": Attribute("snr_db", CONDITION_LABEL_NAMES["noise"], table=attribute_table("noise")),
    "reverberation": Attribute("c50_db", CONDITION_LABEL_NAMES["reverberation"],
                               table=attribute_table("reverberation")),
    "monotony": Attribute("f0_std_semitones", CONDITION_LABEL_NAMES["monotony"], table=attribute_table("monotony")),
}
SPEECHCRAFT_PERCENTILES = {("pitch", "male"): (40.0, 90.0), ("pitch", "female"): (10.0, 60.0),
                           ("energy", None): (100 / 3, 200 / 3), ("speed", None): (100 / 3, 200 / 3)}


@dataclass
class LabelStats:
    clips: int = 0                 # clips with acoustics
    changed: int = 0               # label rows written this run
    auto_version: str | None = None   # a version frozen automatically for groups that had none
    default_groups: int = 0           # groups with no edges and too few clips (or no gender): given the defaults
    default_version: str = DEFAULT_VERSION


def population(lake: Lakehouse) -> pl.DataFrame:
    """One row per measured clip: its measurements, language, corpus and the gender pitch is binned in:
    the speaker stage's (corpus metadata, else a classifier or model), else the corpus metadata."""
    acoustics = pl.from_arrow(lake.read("acoustics", ["clip_id", "f0_mean_hz", "energy_db", "speech_rate", "flags",
                                                      "annotator", "annotator_version", "config_hash",
                                                      "input_hash"]))
    clips = pl.from_arrow(lake.read("clips", ["clip_id", "corpus", "language", "meta_gender"]))
    speakers = pl.from_arrow(lake.read("speakers", ["clip_id", "gender", "gender_source"]))
    for spec in ATTRIBUTES.values():
        if spec.table != "acoustics":
            acoustics = acoustics.join(pl.from_arrow(lake.read(spec.table, ["clip_id", spec.column])),
                                       on="clip_id", how="left")
    return (acoustics.join(clips, on="clip_id", how="inner")
            .join(speakers, on="clip_id", how="left")
            .with_columns(gender=pl.coalesce("gender", "meta_gender"),
                          gender_source=pl.when(pl.col("gender").is_not_null()).then(pl.col("gender_source"))
                          .when(pl.col("meta_gender").is_not_null()).then(pl.lit("corpus")),
                          usable=~pl.col("flags").list.eval(pl.element().is_in(list(UNUSABLE_FLAGS))).list.any(),
                          acoustics_hash=pl.concat_str(["annotator_version", "config_hash", "input_hash"],
                                                       separator=":"))
            .drop("meta_gender"))


def _group_values(pop: pl.DataFrame, language: str, attribute: str, gender: str | None) -> pl.DataFrame:
    column = ATTRIBUTES[attribute].column
    group = pop.filter(pl.col("usable") & (pl.col("language") == language) & pl.col(column).is_not_null()
                       & pl.col(column).is_not_nan())
    if gender is not None:
        group = group.filter(pl.col("gender") == gender)
    return group.select(column, "corpus")


def percentile_groups(pop: pl.DataFrame, min_population: int = MIN_POPULATION,
                      source: str = "") -> tuple[list[dict], list[tuple[str, str, str | None, int]]]:
    """SpeechCraft percentile edges for every group with at least `min_population` usable clips.
    Returns (edge rows, groups skipped as (language, attribute, gender, population))."""
    groups, skipped = [], []
    for language in sorted(set(pop["language"].to_list()) if not pop.is_empty() else []):
        for (attribute, gender), cuts in SPEECHCRAFT_PERCENTILES.items():
            values = _group_values(pop, language, attribute, gender)
            if values.height < min_population:
                skipped.append((language, attribute, gender, values.height))
                continue
            column = values[ATTRIBUTES[attribute].column]
            low, high = (column.quantile(c / 100, interpolation="linear") for c in cuts)
            groups.append({"mode": "percentile", "language": language, "attribute": attribute, "gender": gender,
                           "low_edge": low, "high_edge": high, "percentiles": list(cuts),
                           "population": values.height,
                           "population_corpora": sorted(set(values["corpus"].to_list())),
                           "unit": measure_unit(attribute, language), "source": source})
    return groups, skipped


def fixed_groups(path: Path) -> list[dict]:
    """Edges from a TOML file: a table per language (or `*` for both) with keys `pitch_male`, `pitch_female`,
    `pitch_unknown` (speakers of unknown gender), `energy`, `speed`, `noise`, `reverberation`, `monotony`,
    each two ascending cut points.
    Example: docs/bins-fixed.toml."""
    try:
        config = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read the bin config {path}: {exc}") from None
    keys = {"pitch_male": ("pitch", "male"), "pitch_female": ("pitch", "female"), "pitch_unknown": ("pitch", None),
            **{attribute: (attribute, None) for attribute, spec in ATTRIBUTES.items() if not spec.by_gender}}
    groups = []
    for section, table in config.items():
        languages = LANGUAGES if section == "*" else (section,)
        if section != "*" and section not in LANGUAGES or not isinstance(table, dict):
            raise ValueError(f"{path}: [{section}] must be a table named after a language {list(LANGUAGES)} or '*'")
        for key, edges in table.items():
            if key not in keys:
                raise ValueError(f"{path}: [{section}] {key} is not one of {', '.join(keys)}")
            if (not isinstance(edges, list) or len(edges) != 2 or not all(isinstance(e, int | float) for e in edges)
                    or not edges[0] < edges[1]):
                raise ValueError(f"{path}: [{section}] {key} must be two ascending numbers, got {edges!r}")
            attribute, gender = keys[key]
            groups += [{"mode": "fixed", "language": language, "attribute": attribute, "gender": gender,
                        "low_edge": float(edges[0]), "high_edge": float(edges[1]), "percentiles": None,
                        "population": None, "population_corpora": None, "unit": measure_unit(attribute, language),
                        "source": str(Path(path).resolve())} for language in languages]
    if not groups:
        raise ValueError(f"{path}: no edges in it")
    seen = [(g["language"], g["attribute"], g["gender"]) for g in groups]
    repeated = sorted({key for key in seen if seen.count(key) > 1}, key=str)
    if repeated:
        raise ValueError(f"{path}: edges given twice for {repeated[0]} (a language table and '*' both name it)")
    return groups


def default_groups() -> list[dict]:
    """The default edges as the rows of version DEFAULT_VERSION."""
    return [{**g, "mode": "default", "source": f"speechcraft default edges ({DEFAULT_EDGES.name}; docs/bins.md)"}
            for g in fixed_groups(DEFAULT_EDGES)]


def pin_defaults(lake: Lakehouse, groups: set[tuple[str, str, str | None]]) -> int:
    """Pin the default edges for these (language, attribute, gender) groups only. The whole default set is
    stored once, unpinned, so that every group pinned to it later points at the same frozen rows.
    Returns the groups pinned (a group the defaults do not cover, e.g. another language, stays unlabelled)."""
    if DEFAULT_VERSION not in bins.version_names(lake):
        bins.save_version(lake, DEFAULT_VERSION, default_groups(), pin=False)
    return bins.pin_version(lake, DEFAULT_VERSION, groups)


def _measured_groups(pop: pl.DataFrame) -> set[tuple[str, str, str | None]]:
    """(language, attribute, gender) of every group holding a clip with a value to bin; for pitch the
    clip's gender, null where it is unknown."""
    groups = set()
    for attribute, spec in ATTRIBUTES.items():
        value = pl.col(spec.column)
        gender = pl.col("gender") if spec.by_gender else pl.lit(None, pl.String)
        measured = pop.filter(value.is_not_null() & value.is_not_nan()).select("language", gender.alias("g"))
        groups |= {(language, attribute, g) for language, g in measured.unique().iter_rows()}
    return groups


def _bin(attribute: str, edges: pl.DataFrame, pop: pl.DataFrame) -> pl.DataFrame:
    """clip_id, <attribute>_label, <attribute>_edges for the clips this attribute's edges reach."""
    spec = ATTRIBUTES[attribute]
    on = ["language", "gender"] if spec.by_gender else ["language"]
    group_edges = edges.filter(pl.col("attribute") == attribute).select(*on, "low_edge", "high_edge", "version")
    value = pl.col(spec.column)
    low, normal, high = spec.names
    label = (pl.when(value.is_null() | value.is_nan()).then(None)
             .when(value < pl.col("low_edge")).then(pl.lit(low))
             .when(value < pl.col("high_edge")).then(pl.lit(normal))
             .otherwise(pl.lit(high)))
    # null gender joins null gender: pitch of a speaker of unknown gender takes the `pitch_unknown` edges
    return (pop.join(group_edges, on=on, how="inner", nulls_equal=True)
            .select("clip_id", label.alias(f"{attribute}_label"),
                    pl.when(label.is_not_null()).then(pl.col("version")).alias(f"{attribute}_edges")))


def compute_labels(pop: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """Labels of every measured clip against the given edges (one row per group)."""
    labels = pop.select("clip_id", "gender", "gender_source", "acoustics_hash")
    for attribute in ATTRIBUTES:
        if edges.is_empty():
            labels = labels.with_columns(pl.lit(None, pl.String).alias(f"{attribute}_label"),
                                         pl.lit(None, pl.String).alias(f"{attribute}_edges"))
        else:
            labels = labels.join(_bin(attribute, edges, pop), on="clip_id", how="left")
    return labels


def relabel(lake: Lakehouse, min_population: int = MIN_POPULATION) -> LabelStats:
    """Bring `labels` up to date with the acoustics and the pinned edges. Groups that have no pinned edges
    yet and enough clips get percentile edges frozen automatically (a new version, `auto-<time>`); those
    with too few get the default edges pinned. Groups that have edges keep them, whatever was ingested
    since: percentile edges replace the defaults only when the user freezes them."""
    pop = population(lake)
    stats = LabelStats(clips=pop.height)
    if pop.is_empty():
        return stats
    pinned = bins.in_force(lake)
    have = set() if pinned.is_empty() else set(pinned.select(bins.GROUP).iter_rows())
    candidates, _ = percentile_groups(pop, min_population, source=_acoustics_source(pop))
    keyed = {(g["language"], g["attribute"], g["gender"]): g for g in candidates}
    missing = [g for key, g in keyed.items() if key not in have]
    if missing:
        stats.auto_version = "auto-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        bins.save_version(lake, stats.auto_version, missing)
    uncovered = _measured_groups(pop) - have - set(keyed)
    if uncovered:
        stats.default_groups = pin_defaults(lake, uncovered)
    if missing or stats.default_groups:
        pinned = bins.in_force(lake)

    labels = compute_labels(pop, pinned)
    label_columns = [c for c in labels.columns if c != "clip_id"]
    stored = pl.from_arrow(lake.read("labels", ["clip_id", *label_columns]))
    changed = labels.join(stored, on=[*label_columns, "clip_id"], how="anti", nulls_equal=True)
    stats.changed = changed.height
    if changed.height:
        now = datetime.now(timezone.utc)
        lake.upsert("labels", changed.with_columns(labelled_at=pl.lit(now)).to_arrow())
    return stats


def _acoustics_source(pop: pl.DataFrame) -> str:
    """Which measurements the edges come from: annotator, version and config hash (most clips' if mixed)."""
    top = pop.group_by("annotator", "annotator_version", "config_hash").len().sort("len").row(-1, named=True)
    return f"acoustics {top['annotator']} v{top['annotator_version']} config {top['config_hash']}"


def freeze(lake: Lakehouse, version: str, config_path: Path | None = None,
           min_population: int = MIN_POPULATION) -> tuple[int, list, LabelStats]:
    """Freeze edges as `version` and pin them: fixed edges from `config_path`, else percentiles of the clips
    measured now. Relabels against them. Returns (groups frozen, groups skipped for too few clips, stats)."""
    if version.startswith("defaults-"):
        raise bins.BinVersionError(f"bin version names starting with 'defaults-' are kept for the default "
                                   f"edges; choose another --name (pin them with `speechcraft bins use "
                                   f"{DEFAULT_VERSION}`)")
    if config_path is not None:
        groups, skipped = fixed_groups(config_path), []
    else:
        pop = population(lake)
        if pop.is_empty():
            raise ValueError("no clip is measured yet: run `speechcraft annotate` first, or give fixed edges "
                             "with --config FILE")
        groups, skipped = percentile_groups(pop, min_population, source=_acoustics_source(pop))
        if not groups:
            raise ValueError(f"no group has {min_population} usable clips yet; lower --min-population or "
                             f"ingest and annotate more")
    bins.save_version(lake, version, groups)
    return len(groups), skipped, relabel(lake, min_population)


def use(lake: Lakehouse, version: str, min_population: int = MIN_POPULATION) -> tuple[int, LabelStats]:
    """Pin an existing version again and relabel against it."""
    pinned = bins.pin_version(lake, version)
    return pinned, relabel(lake, min_population)


def edges_report(lake: Lakehouse, min_population: int = MIN_POPULATION) -> pl.DataFrame:
    """The edges in force per group beside what the percentiles of today's population would be: a drift
    between the two says it may be time to freeze a new version."""
    pinned = bins.in_force(lake)
    pop = population(lake)
    now, skipped = percentile_groups(pop, 1) if not pop.is_empty() else ([], [])
    now_frame = pl.DataFrame(
        [{"language": g["language"], "attribute": g["attribute"], "gender": g["gender"],
          "population_now": g["population"], "low_now": g["low_edge"], "high_now": g["high_edge"]} for g in now],
        schema={"language": pl.String, "attribute": pl.String, "gender": pl.String, "population_now": pl.Int64,
                "low_now": pl.Float64, "high_now": pl.Float64})
    if pinned.is_empty():
        return now_frame.with_columns(version=pl.lit(None, pl.String), mode=pl.lit(None, pl.String),
                                      low_edge=pl.lit(None, pl.Float64), high_edge=pl.lit(None, pl.Float64),
                                      unit=pl.lit(None, pl.String), population=pl.lit(None, pl.Int64))
    shown = pinned.select(*bins.GROUP, "version", "mode", "low_edge", "high_edge", "unit", "population")
    return (shown.join(now_frame, on=bins.GROUP, how="full", coalesce=True, nulls_equal=True)
            .sort("language", "attribute", "gender", nulls_last=False))
