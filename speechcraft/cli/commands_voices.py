"""`speechcraft voices`: voice search ("clips that sound like this one") and the speaker-cluster and duplicate
figures (docs/voices.md)."""
from __future__ import annotations

import argparse
import sys

from .render import write_result


def cmd_voices(args: argparse.Namespace) -> int:
    from ..warehouse.storage import LakeStorageError
    from ..warehouse.voices import UnknownVoiceError, similar_voices, voice_figures

    try:
        if args.action == "similar":
            if not args.clip_id:
                print("error: voices similar needs a CLIP_ID", file=sys.stderr)
                return 2
            result = similar_voices(args.lake, args.clip_id, args.limit)
        else:
            result = voice_figures(args.lake)
    except (UnknownVoiceError, LakeStorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_result(result, args.format, sys.stdout)
    return 0
