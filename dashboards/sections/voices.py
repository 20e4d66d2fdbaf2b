"""Voices: clips that sound like a chosen clip (nearest voice vectors, with players), and the speaker-cluster
and duplicate figures per corpus (docs/voices.md)."""
import pandas as pd
import streamlit as st

from speechcraft.dashboards.audio import clip_wav
from speechcraft.dashboards.common import lake_uri, require_clips
from speechcraft.warehouse import reports
from speechcraft.warehouse.voices import clips_with_voice, similar_voices, voice_figures

PLAYERS = 5          # the nearest clips shown with an audio player each

require_clips()
st.title("Voices")


@st.cache_data(show_spinner=False, max_entries=64)
def cached(name: str, version: str, *args):
    return {"figures": voice_figures, "clips": clips_with_voice,
            "similar": similar_voices}[name](lake_uri(), *args).to_pandas()


def player(row) -> None:
    span = [None if pd.isna(row[k]) else float(row[k]) for k in ("start_s", "end_s")]   # pandas reads a null as NaN
    try:
        st.audio(clip_wav(row["audio_path"], *span), format="audio/wav")
    except (OSError, RuntimeError, ValueError) as exc:
        st.warning(f"cannot play {row['audio_path']}: {exc}")


version = reports.lake_version(lake_uri())
clips = cached("clips", version)
if clips.empty:
    st.info("No clip has a voice vector yet: `speechcraft annotate --stage voice` embeds them (it needs the "
            "voices extra: pip install 'speechcraft-lakehouse[voices]').")
    st.stop()
st.caption("Per corpus: clips with a voice vector, clips given a voice cluster (corpora without speaker ids), "
           "clusters, and the copies of a recording found elsewhere (exported once).")
st.dataframe(cached("figures", version), hide_index=True, width="stretch")

left, right = st.columns([3, 1])
clip_id = left.selectbox("sounds like", clips.clip_id.tolist(), key="voice_clip")
limit = right.number_input("clips", min_value=1, max_value=50, value=10, key="voice_limit")
found = cached("similar", version, clip_id, int(limit))
st.subheader(clip_id)
source = clips[clips.clip_id == clip_id].iloc[0]
st.markdown(f"**speaker** {source.speaker_id or '—'} · **transcript** {source.transcript or '—'}")
player(source)
st.markdown(f"**the {len(found)} clips that sound most like it** (cosine similarity of the voice vectors)")
st.dataframe(found.drop(columns=["audio_path", "start_s", "end_s"], errors="ignore"), hide_index=True,
             width="stretch", column_config={"similarity": st.column_config.ProgressColumn(
                 format="%.3f", min_value=0.0, max_value=1.0)})
for _, row in found.head(PLAYERS).iterrows():
    st.markdown(f"**{row['clip_id']}** · similarity {row['similarity']:.3f} · speaker {row['speaker_id'] or '—'}")
    player(row)
