"""Clip browser: filter by any label, play a clip, see every annotation and both texts."""
import streamlit as st

from speechcraft.dashboards.audio import clip_wav
from speechcraft.dashboards.common import plain, report, require_clips
from speechcraft.warehouse.reports import FILTER_COLUMNS

require_clips()
st.title("Clip browser")
options = report("filter_options")
with st.sidebar:
    st.header("filters")
    filters = {column: st.multiselect(column.replace("_", " "), options[column], key=f"filter_{column}")
               for column in FILTER_COLUMNS if options[column]}
    text = st.text_input("transcript contains", key="filter_text")
chosen = {column: tuple(values) for column, values in filters.items() if values}
total = report("count_matching", chosen, text or None)
clips = report("browse", chosen, text or None)
st.caption(f"{total:,} clips match; showing the first {len(clips)} (find clips by how they sound on the Search page)")
st.dataframe(clips, hide_index=True, width="stretch", height=280)
if clips.empty:
    st.stop()

clip_id = st.selectbox("clip", clips.clip_id.tolist(), key="clip")
detail = report("clip_detail", clip_id)
st.subheader(clip_id)
left, right = st.columns([2, 3])
with left:
    try:
        st.audio(clip_wav(detail["audio_path"], detail["start_s"], detail["end_s"]), format="audio/wav")
    except (OSError, RuntimeError, ValueError) as exc:
        st.warning(f"cannot play {detail['audio_path']}: {exc}")
    st.markdown(f"**transcript** ({detail['transcript_source']}): {detail['transcript'] or '—'}")
    st.markdown(f"**description**: {detail['description'] or '—'}")
    st.markdown(f"**instruction**: {detail['instruction'] or '—'}")
    if detail["emphasis"]:
        st.markdown(f"**emphasis**: {detail['emphasis']} ({detail['emphasis_source']})")
with right:
    st.json({k: plain(v) for k, v in detail.items() if k not in ("description", "instruction", "transcript")},
            expanded=True)
