"""Search: clips whose description is closest in meaning to a few plain words (MiniLM vectors in LanceDB)."""
import streamlit as st

from speechcraft.dashboards.common import lake_uri, report, require_clips
from speechcraft.vocabulary import LANGUAGES
from speechcraft.warehouse import reports

require_clips()
st.title("Search by description")
indexed = report("stage_coverage")
indexed = int(indexed[indexed.stage == "search index"].clips.sum())
if indexed == 0:
    st.info("No description is indexed for search yet: `speechcraft describe` embeds the published texts "
            "(it needs the dashboard extra: pip install 'speechcraft-lakehouse[dashboard]').")
    st.stop()


@st.cache_resource(show_spinner="loading the sentence-embedding model…")
def embedder():
    from speechcraft.models.text_embedder import load_embedder

    return load_embedder()


@st.cache_data(show_spinner=False, max_entries=128)
def search(text: str, language: str | None, kind: str, k: int, version: str):
    vector = embedder().embed([text])[0]
    return reports.search_texts(lake_uri(), vector, k=k, language=language, kind=kind)


left, mid, right = st.columns([4, 1, 1])
text = left.text_input("describe the speech you want", "a slow, low-pitched male voice", key="query")
language = mid.selectbox("language", ["any", *sorted(LANGUAGES)], key="language")
kind = right.selectbox("texts", ["description", "instruction"], key="kind")
if text.strip():
    found = search(text.strip(), None if language == "any" else language, kind, 20,
                   reports.lake_version(lake_uri()))
    st.caption(f"{len(found)} nearest of {indexed:,} indexed texts (cosine similarity)")
    labels = report("clips_by_id", tuple(found.clip_id))
    merged = found.merge(labels, on=["clip_id", "language"], how="left") if not labels.empty else found
    st.dataframe(merged, hide_index=True, width="stretch",
                 column_config={"similarity": st.column_config.ProgressColumn(format="%.3f", min_value=0.0,
                                                                                max_value=1.0)})
