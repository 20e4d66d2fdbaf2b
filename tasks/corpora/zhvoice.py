"""zhvoice (KuangDD/zhvoice): eight re-packaged Mandarin corpora of mp3 clips, listed by tab-separated
`metadata.csv` files (`index<TAB>sentence`, index = `zhXXX/<speaker>/<utt>.mp3`).

Real unpackings differ, mixed in one root (some archives one way, some another):
  (a) everything in one root: `ROOT/text/metadata.csv` lists all subsets, audio at `ROOT/<index>`,
      speakers in `ROOT/text/infodata.json`;
  (b) one folder per archive: `ROOT/zhXXX/metadata.csv`, audio at `ROOT/zhXXX/<index>` (double nested);
  (c) `ROOT/zhXXX/metadata.csv` whose indexes are relative to the root: audio at `ROOT/<index>`.
The corpus notes mark the exact layout uncertain (docs/corpora.md), so the reader bets on none: each index is tried against every
folder these layouts allow and the one holding the file wins (`layout_report` says which, per subset); a
subset none of whose files is found anywhere is a layout error. A subset that has its own metadata.csv is read
from it; lines of the combined list for that subset are then skipped, since they describe the same clips."""
from __future__ import annotations

import json
import posixpath
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ._common import ignore_problem, table_lines
from .base import AudioBases, ClipSource, CorpusLayoutError, CorpusReader, Reject, RejectReason, ReportProblem, \
    ScanItem, plural, text_lines

COMBINED_METADATA = Path("text") / "metadata.csv"
INFODATA = Path("text") / "infodata.json"
METADATA = "metadata.csv"


@dataclass(frozen=True)
class ClipInfo:
    speaker: str
    duration_ms: int | float


def read_infodata(path: Path, report: ReportProblem = ignore_problem,
                  subsets: set[str] | None = None) -> dict[str, ClipInfo]:
    """index -> ClipInfo from infodata.json (JSON lines with at least `index`, `speaker`, `duration_ms`),
    keeping only the indexes of `subsets` when given. Held in memory for the join with metadata.csv,
    whose order it need not follow: a few hundred bytes per clip, speakers shared."""
    infos: dict[str, ClipInfo] = {}
    speakers: dict[str, str] = {}      # one string object per speaker, not per clip
    for number, line in table_lines(path, report):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            report(number, RejectReason.MALFORMED_METADATA, f"invalid JSON: {error.msg}")
            continue
        if not isinstance(record, dict):
            report(number, RejectReason.MALFORMED_METADATA, "expected a JSON object")
            continue
        index, speaker, duration = record.get("index"), record.get("speaker"), record.get("duration_ms")
        if isinstance(index, str) and subsets is not None and index.split("/")[0] not in subsets:
            continue
        if not isinstance(index, str) or not isinstance(speaker, (str, int)) or isinstance(speaker, bool) \
                or not str(speaker).strip() \
                or not isinstance(duration, (int, float)) or isinstance(duration, bool):
            report(number, RejectReason.MALFORMED_METADATA, "expected 'index', 'speaker' and 'duration_ms'")
            continue
        if index in infos:
            report(number, RejectReason.DUPLICATE_ID, f"{index} is described twice")
            continue
        speaker = str(speaker)
        infos[index] = ClipInfo(speakers.setdefault(speaker, speaker), duration)
    return infos


@dataclass
class MetadataFile:
    """One metadata.csv being read: which subsets it is read for, and where its paths are found."""
    path: Path
    bases: dict[str, AudioBases]   # subset read from this file -> the folders its indexes may be relative to
    anywhere: AudioBases           # the same folders without a subset's: where an index of no subset points
    archive: str | None            # the subset a per-subset metadata.csv holds; None for the combined list
    header_line: int | None = None
    # index column, sentence column, field count: set from the header row when there is one
    columns: tuple[int, int, int] = (0, 1, 2)


class ZhvoiceReader(CorpusReader):
    name = "zhvoice"
    language = "zh"
    subsets = ("zhaidatatang", "zhaishell", "zhbznsyp", "zhmagicdata",
               "zhprimewords", "zhspeechocean", "zhstcmds", "zhthchs30")

    def __init__(self, root: Path | str, subsets: list[str] | None = None):
        super().__init__(root, subsets)
        self.files: list[MetadataFile] = []
        self.not_on_disk: Counter[str] = Counter()    # combined-list lines of subsets with no folder

    def archives(self) -> list[str]:
        """The subsets with their own metadata.csv (layout (b), or its paths relative to the root)."""
        return [subset for subset in self.subsets if (self.root / subset / METADATA).is_file()]

    def present(self) -> list[str]:
        # Every layout keeps a subset's audio under ROOT/<subset>, so that folder marks it present.
        return [subset for subset in self.subsets if (self.root / subset).is_dir()]

    def has_combined_list(self) -> bool:
        return (self.root / COMBINED_METADATA).is_file()

    def check_layout(self) -> None:
        super().check_layout()
        if not self.has_combined_list() and not self.archives():
            raise CorpusLayoutError(f"{self.root} does not look like {self.name}: expected "
                                    f"{self.root / COMBINED_METADATA} (or {self.root / 'zhXXX' / METADATA})")
        for subset in self.wanted:
            if not (self.root / subset).is_dir():
                raise CorpusLayoutError(
                    f"{self.name}: subset {subset!r} was asked for but {self.root / subset} does not exist")
        if not self.present():
            raise CorpusLayoutError(f"{self.root} holds no {self.name} audio: expected a subset folder "
                                    f"{self.root / 'zhXXX'} ({', '.join(self.subsets)})")
        self.files = self.metadata_files()
        layouts: dict[str, list[AudioBases]] = {}
        for metadata in self.files:
            for subset, bases in metadata.bases.items():
                layouts.setdefault(subset, []).append(bases)
        self.find_layouts(dict(sorted(layouts.items())), self.listed_indexes())

    def metadata_files(self) -> list[MetadataFile]:
        """The files to read: each subset's own metadata.csv where it has one, else the combined list. Without
        --subset, the subsets on disk: a combined list often names archives that were never downloaded."""
        wanted = set(self.wanted or self.present())
        archives = [subset for subset in self.archives() if subset in wanted]
        files = [self.metadata_file(self.root / subset / METADATA, {subset}, subset) for subset in archives]
        if self.has_combined_list():
            files.insert(0, self.metadata_file(self.root / COMBINED_METADATA, wanted - set(archives), None))
        return files

    def metadata_file(self, path: Path, subsets: set[str], archive: str | None) -> MetadataFile:
        """Its indexes are tried against the folder the layout documents for it (the root for the combined list,
        its own folder for an archive), the root (where infodata.json's indexes point), the subset's folder
        (audio double nested under a combined list) and its own folder."""
        documented = path.parent if archive else self.root

        def bases(subset: str | None) -> AudioBases:
            folders = [documented, self.root] + ([self.root / subset] if subset else []) + [path.parent]
            labels = {self.root / subset: f"double nested: {subset}/{subset}/<speaker>/…"} if subset else {}
            return self.audio_bases(folders, path, labels)

        metadata = MetadataFile(path, {subset: bases(subset) for subset in sorted(subsets)}, bases(None), archive)
        first = next(text_lines(path), None)
        if first is not None and first.text.split("\t")[0].strip().lower() == "index":
            metadata.header_line, metadata.columns = first.number, header_columns(first.text.split("\t"))
        return metadata

    def listed_indexes(self) -> Iterator[tuple[AudioBases, str]]:
        """(bases, index) of every line of a subset read from its file, for `find_layouts`."""
        for metadata in self.files:
            for line in text_lines(metadata.path):
                index = self.index_field(metadata, line.number, line.text.split("\t"))
                bases = metadata.bases.get(index.split("/")[0]) if index else None
                if bases is not None:
                    yield bases, index

    def index_field(self, metadata: MetadataFile, number: int, fields: list[str]) -> str | None:
        """The `zhXXX/<speaker>/<file>` index of a data line with the right field count, else None."""
        index_column, _, field_count = metadata.columns
        if number == metadata.header_line or len(fields) != field_count:
            return None
        index = fields[index_column].strip()
        return index if index.count("/") >= 2 else None

    def scan(self) -> Iterator[ScanItem]:
        self.check_layout()
        self.not_on_disk.clear()
        wanted = set(self.wanted or self.present())
        infos: dict[str, ClipInfo] = {}
        if (self.root / INFODATA).is_file():
            infos = yield from self.load_table(
                lambda path, report: read_infodata(path, report, wanted), self.root / INFODATA)
        for metadata in self.files:
            yield from self.read_lines(metadata.path, partial(self.read_metadata_line, metadata, infos))
        self.layout_notes = {subset: f"{count} {plural(count, 'line')} of {COMBINED_METADATA.as_posix()} not read: "
                                     f"not on disk (no folder {self.root / subset})"
                             for subset, count in sorted(self.not_on_disk.items())}

    def read_metadata_line(self, metadata: MetadataFile, infos: dict[str, ClipInfo], number: int,
                           text: str) -> ClipSource | Reject | None:
        """One `index<TAB>sentence` line as a clip, a reject, or None when its subset is not read here."""
        if number == metadata.header_line:
            return None
        fields = text.split("\t")
        index_column, sentence_column, field_count = metadata.columns
        index = fields[index_column].strip() if index_column < len(fields) else ""
        subset = index.split("/")[0]
        if metadata.archive is None and subset in self.subsets and subset not in metadata.bases:
            if not self.wanted and not (self.root / subset).is_dir():
                self.not_on_disk[subset] += 1
            return None      # a subset not read from the combined list in this scan: not ours to judge
        if len(fields) != field_count:
            return self.malformed(metadata.path, number, f"expected {field_count} tab-separated fields, "
                                                         f"got {len(fields)}")
        text = fields[sentence_column]
        source = self.line_source(metadata.path, number)
        bases = metadata.bases.get(subset, metadata.anywhere)
        if not bases.readings(index):
            return self.escapes_root(source, index)
        parts = index.split("/")
        native_id = posixpath.splitext(index)[0]
        if len(parts) < 3 or subset not in self.subsets:
            return self.malformed(metadata.path, number, f"index {index!r} is not zhXXX/<speaker>/<file>")
        if subset not in metadata.bases:
            return self.malformed(metadata.path, number, f"index {index!r} is not in {metadata.archive}",
                                  native_id)
        transcript = "".join(text.split())
        if not transcript:
            return self.malformed(metadata.path, number, "empty sentence", native_id)
        audio_path = bases.resolve(index)
        problem = self.check_clip(source, audio_path, native_id)
        if problem is not None:
            return problem

        info = infos.get(index)
        return ClipSource(
            corpus=self.name, native_id=native_id, language=self.language, audio_path=audio_path,
            subset=subset, split="train", speaker_id=info.speaker if info else parts[1],
            transcript=transcript, transcript_raw=text,
            extras={"duration_ms": info.duration_ms if info else None},
        )


def header_columns(header: list[str]) -> tuple[int, int, int]:
    """(index column, sentence column, field count) from a header row; the sentence defaults to the
    column after the index when the header does not name it."""
    names = [name.strip().lower() for name in header]
    index_column = names.index("index")
    sentence_column = names.index("sentence") if "sentence" in names else index_column + 1
    return index_column, sentence_column, max(len(names), sentence_column + 1)
