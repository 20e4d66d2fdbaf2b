"""Does Parler-TTS's own training data preparation read a `speechcraft export parler-tts` folder unchanged?

    python bench/parler_tts_compat.py EXPORT [--training DIR] [--python PY] [--codec-rows N] [--work DIR]

EXPORT is the folder `speechcraft export parler-tts OUT` wrote (`speechcraft demo` leaves one in
<lake>/exports/parler-tts). Parler-TTS's training code is not in its pip package, so this needs two things
beside the export, neither installed into the project's .venv:

  --python    a python whose environment has parler-tts and its training requirements (default
              /tmp/parler-venv/bin/python):
                  python3.11 -m venv /tmp/parler-venv
                  /tmp/parler-venv/bin/pip install parler-tts==0.2.3 "datasets[audio]==3.2.0" accelerate==1.2.1 \\
                      "wandb==0.19.1" "protobuf>=4,<5" evaluate jiwer
  --training  the `training/` folder of https://github.com/huggingface/parler-tts (default /tmp/parler-training):
                  git clone https://github.com/huggingface/parler-tts /tmp/parler-tts-src
                  cp -r /tmp/parler-tts-src/training /tmp/parler-training

It re-runs itself under that python (this file imports nothing of the project) and runs, offline
(HF_HUB_OFFLINE=1: nothing is downloaded), what `run_parler_tts_training.py` does with
`--target_audio_column_name audio --description_column_name text_description --prompt_column_name text`
and Parler-TTS Mini v1's recipe (44.1 kHz DAC codec, --min_duration_in_seconds 2 --max_duration_in_seconds 30
--max_text_length 600):

  1. the script's own argument classes (training/arguments.py) parse that command line;
  2. `load_multiple_datasets(...)` (training/data.py) called as the script calls it, for train and for eval
     (split `test`), then the script's "column not found" check;
  3. every clip's audio decoded through the cast to Audio(sampling_rate=44100) that load_multiple_datasets did;
  4. the script's description-length filter and its tokenisation map (`pass_through_processors`, copied);
  5. `DataCollatorEncodecWithPadding` (training/data.py) batching audio for the codec;
  6. `run_parler_tts_training.py` itself, unmodified, with --preprocessing_only: codec encoding of the audio,
     delay pattern, duration and token-length filters, save_to_disk (on --codec-rows train rows: a DAC encoder
     on a CPU takes about 4 s per second of audio);
  7. `run_parler_tts_training.py` again on that saved dataset, training 2 steps (its own training loop,
     `DataCollatorParlerTTSWithPadding`, the model's loss).

What it replaces, because nothing may be downloaded: the checkpoint the script loads from --model_name_or_path.
A tiny Parler-TTS is built locally instead (random weights): a 1-layer T5 text encoder, a 1-layer decoder with
Parler-TTS v1's 9 codebooks of 1024 (+ pad/eos 1024, bos 1025), the v1 codec architecture (DACConfig defaults,
44.1 kHz, random weights), an EncodecFeatureExtractor(feature_size=1, sampling_rate=44100) like
parler-tts/dac_44khZ_8kbps's, and a unigram tokenizer trained on the export's own texts and descriptions with
T5's special tokens (</s> appended, <pad>, <unk>) in place of google/flan-t5-large. The script's
`from_pretrained` calls load these from that folder, so every line of its data path runs as written.

Prints PASS/FAIL per step, rows and columns; exits 0 when every step passed, 1 when one failed, 2 when the
export, the training folder or the parler environment is missing (with how to make it).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_PYTHON = "/tmp/parler-venv/bin/python"
DEFAULT_TRAINING = "/tmp/parler-training"
SETUP = """\
  python3.11 -m venv /tmp/parler-venv
  /tmp/parler-venv/bin/pip install parler-tts==0.2.3 "datasets[audio]==3.2.0" accelerate==1.2.1 \\
      "wandb==0.19.1" "protobuf>=4,<5" evaluate jiwer
  git clone https://github.com/huggingface/parler-tts /tmp/parler-tts-src && cp -r /tmp/parler-tts-src/training /tmp/parler-training
then: python bench/parler_tts_compat.py EXPORT --python /tmp/parler-venv/bin/python --training /tmp/parler-training"""
NEEDED_MODULES = ["parler_tts", "datasets", "accelerate", "transformers", "tokenizers", "torch", "soundfile",
                  "librosa", "wandb", "evaluate", "jiwer"]
TRAINING_FILES = ["__init__.py", "data.py", "arguments.py", "utils.py", "eval.py", "run_parler_tts_training.py"]

# Parler-TTS Mini v1's recipe (training/README.md), on our column names; model paths are filled in at run time.
AUDIO, DESCRIPTION, PROMPT = "audio", "text_description", "text"
SAMPLING_RATE = 44_100            # parler-tts/dac_44khZ_8kbps
MIN_S, MAX_S, MAX_TEXT = 2.0, 30.0, 600
CODEBOOKS, CODEBOOK_SIZE = 9, 1024


def fail_setup(message: str) -> None:
    print(f"parler_tts_compat: {message}\nTo set it up (outside the project's .venv):\n{SETUP}", file=sys.stderr)
    sys.exit(2)


# --------------------------------------------------------------------------------------------- outer (any python)
def outer(args: argparse.Namespace) -> int:
    export, training, python = Path(args.export).resolve(), Path(args.training).resolve(), args.python
    if not (export / "README.md").is_file() or not list((export / "data").glob("*.parquet")):
        print(f"parler_tts_compat: {export} is not a parler-tts export (no README.md and data/*.parquet); make one "
              f"with `speechcraft export parler-tts OUT` or `speechcraft demo` (<lake>/exports/parler-tts)",
              file=sys.stderr)
        return 2
    missing = [f for f in TRAINING_FILES if not (training / f).is_file()]
    if missing:
        fail_setup(f"no Parler-TTS training folder at {training} (missing {', '.join(missing)})")
    if not Path(python).is_file():
        fail_setup(f"no python at {python}")
    probe = subprocess.run([python, "-c", "import importlib.util as u, sys; "
                            f"print(' '.join(m for m in {NEEDED_MODULES!r} if u.find_spec(m) is None))"],
                           capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout.strip():
        fail_setup(f"{python} lacks {probe.stdout.strip() or probe.stderr.strip()[-300:]}")
    work = Path(args.work or tempfile.mkdtemp(prefix="parler-compat-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HOME": str(work / "hf-home"), "WANDB_MODE": "disabled", "TOKENIZERS_PARALLELISM": "false",
           "PYTHONWARNINGS": "ignore"}
    env.pop("PYTHONPATH", None)
    cmd = [python, str(Path(__file__).resolve()), "--inner", str(export), "--training", str(training),
           "--work", str(work), "--codec-rows", str(args.codec_rows)]
    print(f"parler_tts_compat: export {export}\n  training code {training}\n  python {python}\n  work {work}",
          flush=True)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    results: dict[str, str] = {}
    with open(work / "inner.log", "w") as log:
        for line in proc.stdout:
            log.write(line)
            if line.startswith(("PASS ", "FAIL ", "SKIP ", "  | ", "INFO ", "MISSING ", "SUMMARY")):
                print(line, end="", flush=True)
            if line.startswith(("PASS ", "FAIL ", "SKIP ")):
                results[line[5:].split(" (")[0].strip()] = line[:4]
    rc = proc.wait()
    failed = [s for s, v in results.items() if v == "FAIL"]
    if rc != 0 and not failed:
        failed = ["(the parler environment stopped: see the log)"]
    print(f"parler_tts_compat: {sum(v == 'PASS' for v in results.values())} passed, {len(failed)} failed"
          f"{': ' + ', '.join(failed) if failed else ''}; full log {work / 'inner.log'}")
    return 1 if failed else 0


# ------------------------------------------------------------------------------ inner (the parler-tts environment)
def step(name: str, fn, *a, **kw):
    """Run one step: PASS with its detail lines, or FAIL with the exception's last line (traceback to the log)."""
    import traceback
    t = time.perf_counter()
    try:
        detail = fn(*a, **kw)
    except Exception as e:       # the verdict is the point: report and go on where later steps can
        traceback.print_exc(file=sys.stdout)
        print(f"FAIL {name} ({time.perf_counter() - t:.1f} s): {type(e).__name__}: {str(e).strip()[:600]}", flush=True)
        return None
    lines = detail if isinstance(detail, list) else [detail] if detail else []
    print(f"PASS {name} ({time.perf_counter() - t:.1f} s)", flush=True)
    for line in lines:
        print(f"  | {line}", flush=True)
    return detail


def import_training(training: Path, work: Path):
    """`training` as the script imports it (`from training.data import ...`): a folder named training on sys.path."""
    root = work / "pkgroot"
    root.mkdir(exist_ok=True)
    link = root / "training"
    if not link.exists():
        link.symlink_to(training, target_is_directory=True)
    sys.path.insert(0, str(root))
    import training.arguments  # noqa: F401
    import training.data  # noqa: F401
    return root


def build_tiny_checkpoint(export: Path, out: Path) -> list[str]:
    """The local stand-in for --model_name_or_path / feature extractor / tokenizers (see the module doc)."""
    import pyarrow.parquet as pq
    from parler_tts import DACConfig, ParlerTTSConfig, ParlerTTSDecoderConfig, ParlerTTSForConditionalGeneration
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers, normalizers
    from transformers import EncodecFeatureExtractor, PreTrainedTokenizerFast, T5Config

    texts = []
    for shard in sorted((export / "data").glob("*.parquet")):
        t = pq.read_table(shard, columns=[PROMPT, DESCRIPTION])
        texts += [s for c in (PROMPT, DESCRIPTION) for s in t.column(c).to_pylist() if s]
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    specials = ["<pad>", "</s>", "<unk>"]                      # T5's ids 0, 1, 2
    tok.train_from_iterator(texts, trainers.UnigramTrainer(vocab_size=2000, special_tokens=specials,
                                                           unk_token="<unk>"))
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", tok.token_to_id("</s>"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=512)
    fast.save_pretrained(out)
    EncodecFeatureExtractor(feature_size=1, sampling_rate=SAMPLING_RATE, padding_value=0.0).save_pretrained(out)
    vocab = len(fast)
    text_config = T5Config(vocab_size=vocab, d_model=32, d_kv=8, d_ff=64, num_layers=1, num_decoder_layers=1,
                           num_heads=2, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    decoder_config = ParlerTTSDecoderConfig(
        vocab_size=CODEBOOK_SIZE + 1, max_position_embeddings=4096, num_hidden_layers=1, ffn_dim=64,
        num_attention_heads=2, hidden_size=32, pad_token_id=CODEBOOK_SIZE, eos_token_id=CODEBOOK_SIZE,
        bos_token_id=CODEBOOK_SIZE + 1, num_codebooks=CODEBOOKS)
    config = ParlerTTSConfig.from_sub_models_config(text_config, DACConfig(), decoder_config, vocab_size=vocab)
    model = ParlerTTSForConditionalGeneration(config)
    model.generation_config.decoder_start_token_id = CODEBOOK_SIZE + 1
    model.generation_config.pad_token_id = CODEBOOK_SIZE
    model.generation_config.eos_token_id = CODEBOOK_SIZE
    model.generation_config.max_length = int(MAX_S * model.audio_encoder.config.frame_rate)
    model.config.pad_token_id = CODEBOOK_SIZE
    model.config.decoder_start_token_id = CODEBOOK_SIZE + 1
    model.save_pretrained(out)
    return [f"REPLACED google/flan-t5-large tokenizer -> unigram tokenizer ({vocab} tokens) trained on the export's "
            f"{len(texts)} texts+descriptions, T5 special tokens",
            f"REPLACED parler-tts/dac_44khZ_8kbps feature extractor -> EncodecFeatureExtractor(sampling_rate="
            f"{SAMPLING_RATE}, feature_size=1)",
            f"REPLACED the Parler-TTS checkpoint -> tiny random model (1-layer T5 + 1-layer decoder, {CODEBOOKS} "
            f"codebooks, DAC 44.1 kHz architecture with random weights), saved to {out}"]


def script_argv(export: Path, model: Path, work: Path, metadata: bool) -> list[str]:
    """The run_parler_tts_training.py command line: Mini v1's recipe on this export and the local checkpoint.
    With `metadata`, the export is also its own metadata dataset (dataspeech's layout: audio dataset + annotation
    dataset joined on --id_column_name), which parler-tts's load_multiple_datasets needs (see inner())."""
    extra = ["--train_metadata_dataset_name", str(export), "--eval_metadata_dataset_name", str(export),
             "--id_column_name", "clip_id"] if metadata else []
    return [*extra, "--model_name_or_path", str(model), "--feature_extractor_name", str(model),
            "--description_tokenizer_name", str(model), "--prompt_tokenizer_name", str(model),
            "--train_dataset_name", str(export), "--train_dataset_config_name", "default",
            "--train_split_name", "train", "--eval_dataset_name", str(export), "--eval_dataset_config_name", "default",
            "--eval_split_name", "test",
            "--target_audio_column_name", AUDIO, "--description_column_name", DESCRIPTION,
            "--prompt_column_name", PROMPT,
            "--max_duration_in_seconds", str(MAX_S), "--min_duration_in_seconds", str(MIN_S),
            "--max_text_length", str(MAX_TEXT), "--preprocessing_num_workers", "1",
            "--do_train", "true", "--do_eval", "true", "--report_to", "none", "--overwrite_output_dir", "true",
            "--output_dir", str(work / "output"), "--save_to_disk", str(work / "vectorized"),
            "--temporary_save_to_disk", str(work / "codec-tmp"), "--audio_encoder_per_device_batch_size", "4",
            "--dtype", "float32", "--seed", "456", "--dataloader_num_workers", "0"]


def inner(args: argparse.Namespace) -> int:
    import logging
    export, training, work = Path(args.export), Path(args.training), Path(args.work)
    logger = logging.getLogger("parler_tts_compat")
    logging.basicConfig(level=logging.WARNING)
    versions = {}
    for m in ("parler_tts", "transformers", "datasets", "accelerate", "torch", "tokenizers"):
        versions[m] = __import__(m).__version__
    print("INFO versions " + " ".join(f"{k}={v}" for k, v in versions.items()), flush=True)

    root = step("import training/ (data.py, arguments.py)", import_training, training, work)
    if root is None:
        return 1
    from training.arguments import DataTrainingArguments, ModelArguments, ParlerTTSTrainingArguments
    from training.data import DataCollatorEncodecWithPadding, load_multiple_datasets
    import datasets
    from accelerate import Accelerator
    from transformers import AutoFeatureExtractor, AutoTokenizer, HfArgumentParser

    model_dir = work / "tiny-parler"
    replaced = step("build the local stand-in checkpoint", build_tiny_checkpoint, export, model_dir)
    if replaced is None:
        return 1
    parser = HfArgumentParser((ModelArguments, DataTrainingArguments, ParlerTTSTrainingArguments))

    def parse(metadata):
        return parser.parse_args_into_dataclasses(args=script_argv(export, model_dir, work, metadata))
    parsed = step("parse the script's arguments (training/arguments.py)",
                  lambda: [f"{k}={v}" for k, v in vars(parse(False)[1]).items() if k.endswith("_name")])
    if parsed is None:
        return 1
    model_args, data_args, training_args = parse(False)

    # -- what main() does before load_multiple_datasets
    accelerator = Accelerator(mixed_precision="no", project_dir=training_args.output_dir)
    feature_extractor = AutoFeatureExtractor.from_pretrained(model_args.feature_extractor_name)
    sampling_rate = feature_extractor.sampling_rate
    prompt_tokenizer = AutoTokenizer.from_pretrained(model_args.prompt_tokenizer_name, use_fast=True,
                                                     padding_side=model_args.prompt_padding_side)
    description_tokenizer = AutoTokenizer.from_pretrained(model_args.description_tokenizer_name, use_fast=True)

    def whole_export():
        card = datasets.load_dataset(str(export), "default")
        cols = list(next(iter(card.values())).features)
        return [f"splits: " + ", ".join(f"{s}={len(d)}" for s, d in card.items()),
                f"columns ({len(cols)}): {', '.join(cols)}",
                f"audio feature: {card['train'].features[AUDIO]!r}"]
    step("datasets.load_dataset(EXPORT) reads the card and shards", whole_export)

    columns_to_keep = {"target_audio_column_name": data_args.target_audio_column_name,
                       "prompt_column_name": data_args.prompt_column_name}
    if data_args.description_column_name is not None:
        columns_to_keep["description_column_name"] = data_args.description_column_name
    # Parler-TTS's load_multiple_datasets indexes metadata_dataset_names[i] even when it is None
    # (training/data.py, convert_dataset_str_to_list), so the script only runs with --train_metadata_dataset_name.
    # Probe that on this export; if it still fails that way, give the export as its own metadata dataset, joined on
    # clip_id (--id_column_name), as dataspeech's audio + annotation datasets are joined on `id`.
    try:
        load_multiple_datasets(accelerator, data_args.train_dataset_name, data_args.train_dataset_config_name,
                               splits=data_args.train_split_name, columns_to_keep=columns_to_keep.values(),
                               prompt_column_name=data_args.prompt_column_name, logger=logger)
        metadata = False
        print("INFO load_multiple_datasets without a metadata dataset works", flush=True)
    except TypeError as e:
        if "not subscriptable" not in str(e):
            raise
        metadata = True
        print("INFO parler-tts's load_multiple_datasets fails without --train_metadata_dataset_name (TypeError: "
              "metadata_dataset_names[i] on None in training/data.py convert_dataset_str_to_list; not about the "
              "export): giving the export as its own metadata dataset, --id_column_name clip_id", flush=True)
    argv = script_argv(export, model_dir, work, metadata)
    model_args, data_args, training_args = parse(metadata)
    raw = datasets.DatasetDict()

    def load(split_key):
        if split_key == "train":
            ds = load_multiple_datasets(
                accelerator, data_args.train_dataset_name, data_args.train_dataset_config_name,
                metadata_dataset_names=data_args.train_metadata_dataset_name, splits=data_args.train_split_name,
                dataset_samples=data_args.train_dataset_samples, seed=training_args.seed,
                cache_dir=model_args.cache_dir, num_proc=data_args.preprocessing_num_workers,
                id_column_name=data_args.id_column_name, columns_to_keep=columns_to_keep.values(),
                prompt_column_name=data_args.prompt_column_name,
                audio_column_name=data_args.target_audio_column_name, sampling_rate=sampling_rate, logger=logger)
            missing = [f"--{k} '{v}'" for k, v in columns_to_keep.items() if v not in ds.column_names]
            for m in missing:
                print(f"MISSING {m} not found in the dataset (the script raises ValueError here)", flush=True)
            if missing:
                raise ValueError(f"columns the script needs are missing: {', '.join(missing)}")
        else:
            ds = load_multiple_datasets(
                accelerator, data_args.eval_dataset_name or data_args.train_dataset_name,
                data_args.eval_dataset_config_name or data_args.train_dataset_config_name,
                metadata_dataset_names=data_args.eval_metadata_dataset_name, splits=data_args.eval_split_name,
                cache_dir=model_args.cache_dir, num_proc=data_args.preprocessing_num_workers,
                id_column_name=data_args.id_column_name, columns_to_keep=columns_to_keep.values(),
                prompt_column_name=data_args.prompt_column_name,
                audio_column_name=data_args.target_audio_column_name, sampling_rate=sampling_rate, logger=logger)
        raw[split_key] = ds
        return [f"rows: {len(ds)}", f"columns kept: {', '.join(ds.column_names)}",
                f"{AUDIO}: {ds.features[AUDIO]!r}"]

    step(f"load_multiple_datasets(train, split {data_args.train_split_name})", load, "train")
    step(f"load_multiple_datasets(eval, split {data_args.eval_split_name})", load, "eval")
    if "train" not in raw:
        return 1

    def decode_all():
        import io
        import numpy as np
        import soundfile as sf
        stored = raw["train"].cast_column(AUDIO, datasets.Audio(decode=False))
        native = sorted({(sf.info(io.BytesIO(a["bytes"])).samplerate, sf.info(io.BytesIO(a["bytes"])).format)
                         for a in stored[AUDIO] if a["bytes"]})
        out, lengths, rates, bad = [f"stored audio (rate, format): {native}"], [], set(), []
        for split, ds in raw.items():
            for i, row in enumerate(ds):
                a = row[AUDIO]
                rates.add(a["sampling_rate"])
                arr = np.asarray(a["array"])
                if arr.ndim != 1 or not len(arr) or not np.isfinite(arr).all():
                    bad.append(f"{split}[{i}] shape {arr.shape}")
                lengths.append(len(arr) / a["sampling_rate"])
            out.append(f"{split}: {len(ds)} clips decoded")
        if bad or rates != {sampling_rate}:
            raise ValueError(f"rates {rates} (want {sampling_rate}); unusable arrays: {bad[:10]}")
        short = sum(s <= MIN_S for s in lengths)
        long_ = sum(s >= MAX_S for s in lengths)
        out += [f"all at {sampling_rate} Hz, mono float arrays; {min(lengths):.2f}-{max(lengths):.2f} s",
                f"{short} clip(s) <= --min_duration_in_seconds {MIN_S} and {long_} >= --max_duration_in_seconds "
                f"{MAX_S}: the script's own duration filter drops these after encoding"]
        return out
    step(f"decode every clip's audio at {sampling_rate} Hz (datasets Audio cast)", decode_all)

    # -- the script's description-length filter and tokenisation map (copied from main(), not importable)
    def text_filter():
        before = {k: len(v) for k, v in raw.items()}
        filtered = raw.filter(lambda x: len(x) < data_args.max_text_length, num_proc=data_args.preprocessing_num_workers,
                              input_columns=[data_args.description_column_name])
        for k in list(raw):
            raw[k] = filtered[k]
        return [f"{k}: {before[k]} -> {len(raw[k])} rows (description < {data_args.max_text_length} chars)"
                for k in raw]
    step("max_text_length filter on text_description", text_filter)

    def pass_through_processors(description, prompt):
        batch = {}
        batch["input_ids"] = description_tokenizer(description.strip())["input_ids"]
        batch["prompt_input_ids"] = prompt_tokenizer(prompt.strip())["input_ids"]
        return batch

    def tokenise():
        vec = raw.map(pass_through_processors, remove_columns=next(iter(raw.values())).column_names,
                      input_columns=[data_args.description_column_name, data_args.prompt_column_name],
                      num_proc=data_args.preprocessing_num_workers, desc="preprocess datasets")
        lens = [len(x) for x in vec["train"]["input_ids"]]
        plens = [len(x) for x in vec["train"]["prompt_input_ids"]]
        return [f"{k}: {len(v)} rows, columns {', '.join(v.column_names)}" for k, v in vec.items()] + [
            f"description tokens {min(lens)}-{max(lens)}, prompt tokens {min(plens)}-{max(plens)} (stand-in tokenizer)"]
    step("tokenisation map (pass_through_processors)", tokenise)

    def codec_collator():
        import torch
        collator = DataCollatorEncodecWithPadding(
            feature_extractor, audio_column_name=data_args.target_audio_column_name,
            feature_extractor_input_name=feature_extractor.model_input_names[0],
            max_length=int(data_args.max_duration_in_seconds * sampling_rate), padding="longest")
        loader = torch.utils.data.DataLoader(raw["train"], batch_size=training_args.audio_encoder_per_device_batch_size,
                                             collate_fn=collator, num_workers=0)
        shapes, n = set(), 0
        for batch in loader:
            shapes.add(tuple(batch["input_values"].shape[:2]))
            n += len(batch["len_audio"])
        return [f"{n} clips batched for the codec: input_values (batch, channels) {sorted(shapes)}, "
                f"padding_mask {'padding_mask' in batch}"]
    step("DataCollatorEncodecWithPadding over the train split", codec_collator)

    # -- the script itself, unmodified: preprocessing (codec encoding, filters, save_to_disk), then 2 train steps
    script = root / "training" / "run_parler_tts_training.py"
    env = {**os.environ, "PYTHONPATH": str(root)}

    def run_script(extra, name):
        cmd = [sys.executable, str(script), *argv, *extra]
        print(f"INFO running {' '.join(cmd)}", flush=True)
        with open(work / f"{name}.log", "w") as log:
            rc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work).returncode
        tail = (work / f"{name}.log").read_text().strip().splitlines()[-15:]
        if rc != 0:
            raise RuntimeError(f"exit {rc}; log {work / name}.log; last lines:\n    " + "\n    ".join(tail))
        return rc

    rows = args.codec_rows
    limits = [] if rows <= 0 else ["--max_train_samples", str(rows), "--max_eval_samples", str(max(2, rows // 2))]

    def preprocess():
        run_script([*limits, "--preprocessing_only", "true"], "script-preprocess")
        vec = datasets.load_from_disk(str(work / "vectorized"))
        out = [f"{k}: {len(v)} rows, columns {', '.join(v.column_names)}" for k, v in vec.items()]
        lab = vec["train"][0]["labels"]
        out.append(f"train[0] labels: {len(lab)} codebooks x {len(lab[0])} frames; target_length "
                   f"{vec['train'][0]['target_length']} samples")
        if not len(vec["train"]):
            raise ValueError("no train rows survived the script's filters")
        return out
    label = "all" if rows <= 0 else f"first {rows} train rows, {max(2, rows // 2)} eval rows"
    done = step(f"run_parler_tts_training.py --preprocessing_only ({label}; codec with random weights)", preprocess)

    if done is not None:
        def train():
            run_script(["--max_steps", "2", "--per_device_train_batch_size", "2", "--do_eval", "false",
                        "--gradient_accumulation_steps", "1", "--learning_rate", "1e-4", "--logging_steps", "1",
                        "--save_steps", "1000", "--warmup_steps", "0", "--freeze_text_encoder", "true"],
                       "script-train")
            text = (work / "script-train.log").read_text().replace("\r", "\n").splitlines()
            logged = [line.strip() for line in text if "Loss:" in line or "Model weights saved" in line]
            return logged or ["(the script exited 0)"]
        step("run_parler_tts_training.py: 2 training steps on the preprocessed export", train)
    else:
        print("SKIP training-steps: the preprocessing step failed", flush=True)
    print("SUMMARY done", flush=True)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("export", help="folder written by `speechcraft export parler-tts OUT`")
    p.add_argument("--training", default=DEFAULT_TRAINING, help="parler-tts's training/ folder")
    p.add_argument("--python", default=DEFAULT_PYTHON, help="python of an environment with parler-tts")
    p.add_argument("--work", default=None, help="scratch folder (default: a new temporary one)")
    p.add_argument("--codec-rows", type=int, default=8,
                   help="train rows the script encodes with the codec (eval: half); 0 = all (slow on a CPU)")
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    return inner(args) if args.inner else outer(args)


if __name__ == "__main__":
    sys.exit(main())
