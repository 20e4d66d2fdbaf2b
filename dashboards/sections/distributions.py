"""Distributions: age, gender and emotion per corpus and language (the paper's figure 4); pitch, energy
and speed with the bin edges labels are cut at; description lengths; word clouds of descriptions."""
import altair as alt
import streamlit as st

from speechcraft.dashboards.common import LABEL_ORDER, report, report_or_hint, require_clips, show
from speechcraft.dashboards.wordclouds import word_cloud
from speechcraft.vocabulary import CONDITION_LABEL_NAMES, LANGUAGES, MEASURE_UNITS, RATE_UNITS, per_second

require_clips()
st.title("Distributions")
labels = report("label_counts")

st.subheader("Age, gender, emotion and recording conditions by language")
st.caption("Noise, reverberation and monotony twice: in three bins (the bin edges in force) and in "
           "Parler-TTS v1's own words (`*_parler`, its frozen bins).")
by = st.radio("split by", ["language", "corpus"], horizontal=True)
conditions = [a for a in labels.attribute.unique() if a in CONDITION_LABEL_NAMES or a.endswith("_parler")]
for attribute in ("age", "gender", "emotion", *sorted(conditions)):
    frame = labels[labels.attribute == attribute].groupby([by, "label"], as_index=False)["clips"].sum()
    if frame.empty:
        st.caption(f"no {attribute} labels yet")
        continue
    frame["share"] = frame.clips / frame.groupby(by).clips.transform("sum")
    frame["rank"] = frame.label.map({label: i for i, label in enumerate(LABEL_ORDER.get(attribute, []))})
    show(alt.Chart(frame, title=attribute).mark_bar().encode(
        x=alt.X("share:Q", axis=alt.Axis(format="%"), title="share of clips"), y=alt.Y(f"{by}:N", title=None),
        color=alt.Color("label:N", sort=LABEL_ORDER.get(attribute), title=attribute,
                        # Parler-TTS's five and seven words: a legend beside two bars would be cut off
                        legend=alt.Legend(orient="bottom", columns=4) if frame.label.nunique() > 5 else alt.Legend()),
        order="rank:Q",
        tooltip=[by, "label", "clips", alt.Tooltip("share:Q", format=".1%")]
    ).properties(height=alt.Step(24)))

st.subheader("Pitch, energy and speed")
st.caption("Histograms of the measured values; the rules are the bin edges in force (low | normal | high).")
RATE = ", ".join(f"{per_second(RATE_UNITS[language])} ({language})" for language in sorted(LANGUAGES))
for measure, unit in (("pitch", MEASURE_UNITS["pitch"]), ("energy", MEASURE_UNITS["energy"]), ("speed", RATE)):
    hist = report("histogram", measure)
    if hist.empty:
        st.caption(f"no {measure} measured yet")
        continue
    edges = report("edges_in_force", measure)[["language", "gender", "low_edge", "high_edge"]]
    if measure != "pitch":
        edges = edges.drop(columns="gender")
    hist = hist.merge(edges, on=[c for c in ("language", "gender") if c in edges.columns], how="left")
    hist["group"] = hist.language + ("/" + hist.gender if measure == "pitch" else "")
    bars = alt.Chart().mark_bar(opacity=0.8).encode(
        x=alt.X("bin_start:Q", bin="binned", title=f"{measure} ({unit})"), x2="bin_end:Q", y=alt.Y("clips:Q"),
        tooltip=["group", "bin_start", "bin_end", "clips"])
    rules = [alt.Chart().mark_rule(color="firebrick", strokeDash=[4, 3], size=2).encode(
        x=alt.X(f"{edge}:Q"), tooltip=[edge]) for edge in ("low_edge", "high_edge")]
    chart = alt.layer(bars, *rules, data=hist).properties(height=160, width=280).facet(
        facet=alt.Facet("group:N", title=None), columns=2).resolve_scale(x="independent", y="independent")
    show(chart.properties(title=measure))

attributes = report("attribute_histograms")
if not attributes.empty:
    st.subheader("Other attributes")
    st.caption("Every number an attribute stage measures (tasks/attributes/), per language.")
    for attribute, frame in attributes.groupby("attribute", sort=False):
        show(alt.Chart(frame, title=attribute).mark_bar(opacity=0.8).encode(
            x=alt.X("bin_start:Q", bin="binned", title=attribute), x2="bin_end:Q", y=alt.Y("clips:Q"),
            tooltip=["language", "bin_start", "bin_end", "clips"]).properties(height=140, width=280).facet(
            facet=alt.Facet("language:N", title=None), columns=2).resolve_scale(x="independent", y="independent"))

st.subheader("Descriptions")
lengths = report_or_hint("description_lengths", "no descriptions yet: `speechcraft describe`")
if lengths is not None:
    show(alt.Chart(lengths, title="text length (zh: characters, en: words)").mark_bar().encode(
        x=alt.X("length:Q", bin=alt.Bin(maxbins=30)), y=alt.Y("sum(texts):Q", title="texts"), color="kind:N",
        tooltip=["language", "kind", "length", "texts"]).properties(height=160, width=420).facet(
        column=alt.Column("language:N", title=None)).resolve_scale(x="independent"))
    columns = st.columns(2)
    for column, language in zip(columns, sorted(LANGUAGES)):
        with column:
            st.markdown(f"**word cloud of {language} descriptions**")
            image, note = word_cloud(report("description_sample", language), language)
            if image is None:
                st.caption(note)
            else:
                st.image(image, caption=note, width="stretch")
