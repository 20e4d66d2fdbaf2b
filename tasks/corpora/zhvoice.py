"""zhvoice (KuangDD/zhvoice): eight re-packaged Mandarin corpora of mp3 clips, listed by tab-separated
`metadata.csv` files (`index<TAB>sentence`, index = `zhXXX/<speaker>/<utt>.mp3`).

Two unpack layouts, which may be mixed in one root (some archives one way, some the other):
  (a) everything in one root: `ROOT/text/metadata.csv` lists all subsets, audio at `ROOT/<index>`,
      speakers in `ROOT/text/infodata.json`;
  (b) one folder per archive: `ROOT/zhXXX/metadata.csv`, audio at `ROOT/zhXXX/<index>`.
A subset that has its own (b) metadata.csv is read from it; lines of the combined list for that subset
are then skipped, since they describe the same clips at a path that layout does not have."""
from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ._common import content_lines, ignore_problem, table_lines
from .base import ClipSource, CorpusLayoutError, CorpusReader, Reject, RejectReason, ReportProblem, ScanItem

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
    """One metadata.csv being read: where its audio lives and which subsets it is read for."""
    path: Path
    audio_base: Path           # the folder its indexes are relative to
    subsets: set[str]          # lines of other subsets are skipped (or, for an archive, malformed)
    archive: str | None        # the subset a (b)-layout archive holds; None for the combined list
    # index column, sentence column, field count: set from the header row when there is one
    columns: tuple[int, int, int] = (0, 1, 2)


class ZhvoiceReader(CorpusReader):
    name = "zhvoice"
    language = "zh"
    subsets = ("zhaidatatang", "zhaishell", "zhbznsyp", "zhmagicdata",
               "zhprimewords", "zhspeechocean", "zhstcmds", "zhthchs30")

    def archives(self) -> list[str]:
        """The subsets unpacked in layout (b), each with its own metadata.csv."""
        return [subset for subset in self.subsets if (self.root / subset / METADATA).is_file()]

    def has_combined_list(self) -> bool:
        return (self.root / COMBINED_METADATA).is_file()

    def check_layout(self) -> None:
        super().check_layout()
        if not self.has_combined_list() and not self.archives():
            raise CorpusLayoutError(f"{self.root} does not look like {self.name}: expected "
                                    f"{self.root / COMBINED_METADATA} (or {self.root / 'zhXXX' / METADATA})")
        # Either layout keeps a subset's audio under ROOT/<subset>, so that folder marks it present.
        for subset in self.wanted:
            if not (self.root / subset).is_dir():
                raise CorpusLayoutError(
                    f"{self.name}: subset {subset!r} was asked for but {self.root / subset} does not exist")

    def scan(self) -> Iterator[ScanItem]:
        self.check_layout()
        wanted = set(self.wanted or self.subsets)
        archives = [subset for subset in self.archives() if subset in wanted]
        infos: dict[str, ClipInfo] = {}
        if (self.root / INFODATA).is_file():
            infos = yield from self.load_table(
                lambda path, report: read_infodata(path, report, wanted), self.root / INFODATA)
        files: list[MetadataFile] = []
        if self.has_combined_list():
            files.append(MetadataFile(self.root / COMBINED_METADATA, self.root, wanted - set(archives), None))
        files += [MetadataFile(self.root / subset / METADATA, self.root / subset, {subset}, subset)
                  for subset in archives]
        for metadata in files:
            if metadata.subsets:
                yield from self.scan_metadata(metadata, infos)

    def scan_metadata(self, metadata: MetadataFile, infos: dict[str, ClipInfo]) -> Iterator[ScanItem]:
        first = True
        for number, line in content_lines(metadata.path):
            if line is None:
                yield self.bad_encoding(metadata.path, number)
                continue
            fields = line.split("\t")
            if first and fields[0].strip().lower() == "index":
                metadata.columns = header_columns(fields)
                first = False
                continue
            first = False
            item = self.read_metadata_line(metadata, number, fields, infos)
            if item is not None:
                yield item

    def read_metadata_line(self, metadata: MetadataFile, number: int, fields: list[str],
                           infos: dict[str, ClipInfo]) -> ClipSource | Reject | None:
        """One `index<TAB>sentence` line as a clip, a reject, or None when its subset is not read here."""
        index_column, sentence_column, field_count = metadata.columns
        index = fields[index_column].strip() if index_column < len(fields) else ""
        subset = index.split("/")[0]
        if metadata.archive is None and subset in self.subsets and subset not in metadata.subsets:
            return None      # a subset not read from the combined list in this scan: not ours to judge
        if len(fields) != field_count:
            return self.malformed(metadata.path, number, f"expected {field_count} tab-separated fields, "
                                                         f"got {len(fields)}")
        text = fields[sentence_column]
        source = self.line_source(metadata.path, number)
        audio_path = self.resolve_inside(metadata.audio_base, index)
        if audio_path is None:
            return self.escapes_root(source, index)
        parts = index.split("/")
        native_id = posixpath.splitext(index)[0]
        if len(parts) < 3 or subset not in self.subsets:
            return self.malformed(metadata.path, number, f"index {index!r} is not zhXXX/<speaker>/<file>")
        if subset not in metadata.subsets:
            return self.malformed(metadata.path, number, f"index {index!r} is not in {metadata.archive}",
                                  native_id)
        transcript = "".join(text.split())
        if not transcript:
            return self.malformed(metadata.path, number, "empty sentence", native_id)
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
