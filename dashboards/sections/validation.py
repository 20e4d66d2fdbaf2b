"""Validation: predictions against references (gender and age against corpus metadata, emphasis against
regenerated clips), the text checker's omission and distortion rates per generator, quality over time."""
import altair as alt
import streamlit as st

from speechcraft.dashboards.common import report, report_or_hint, require_clips, show

require_clips()
st.title("Validation")
validations = report("validations")

st.subheader("Gender and age against references")
speaker = validations[validations.attribute.isin(["gender", "age_group"])]
if speaker.empty:
    st.caption("no validations yet: `speechcraft validate`")
else:
    show(alt.Chart(speaker, title="accuracy per corpus").mark_bar().encode(
        x=alt.X("accuracy:Q", scale=alt.Scale(domain=[0, 1])), y=alt.Y("corpus:N", title=None),
        yOffset="reference:N", color="reference:N", row=alt.Row("attribute:N", title=None),
        tooltip=["attribute", "reference", "corpus", "predictor", "n_clips", "n_speakers", "accuracy"]
    ).resolve_scale(y="independent"))
    st.dataframe(speaker, hide_index=True, width="stretch")

st.subheader("Emphasis detection")
emphasis = validations[validations.attribute == "emphasis"]
if emphasis.empty:
    st.caption("no emphasis validation yet: `speechcraft emphasize` then `speechcraft annotate --stage emphasis`")
else:
    columns = st.columns(4)
    for i, row in enumerate(emphasis.itertuples()):
        columns[i % 4].metric(f"{row.corpus} ({row.reference})", f"{row.accuracy:.1%}",
                              help=f"sentence-level accuracy over {row.n_clips} clips")
    st.dataframe(emphasis, hide_index=True, width="stretch")

st.subheader("Description checker")
rates = report_or_hint("checker_rates", "no descriptions yet: `speechcraft describe`")
if rates is not None:
    long = rates.melt(id_vars=["generator", "language", "kind", "texts"],
                      value_vars=["omission_rate", "distortion_rate", "pass_rate"], var_name="rate")
    show(alt.Chart(long, title="omission, distortion and pass rates per generator").mark_bar().encode(
        x=alt.X("value:Q", scale=alt.Scale(domain=[0, 1]), title=None), y=alt.Y("rate:N", title=None),
        color="rate:N", row=alt.Row("generator:N"), column=alt.Column("language:N"),
        tooltip=["generator", "language", "kind", "texts", "rate", "value"]))
    st.dataframe(rates, hide_index=True, width="stretch")

st.subheader("Quality checks over time")
history = report_or_hint("quality_history", "no quality check has run yet: `speechcraft check`")
if history is not None:
    show(alt.Chart(history, title="share of expectations passed per check run").mark_line(point=True).encode(
        x=alt.X("checked_at:T"), y=alt.Y("pass_rate:Q", scale=alt.Scale(domain=[0, 1])),
        color=alt.value("seagreen"), tooltip=["checked_at", "expectations", "pass_rate", "critical_failed",
                                              "warnings_failed"]).properties(height=200))
    latest = report("latest_quality")
    failed = latest[~latest.success]
    st.markdown(f"**latest check**: {len(latest)} expectations, {len(failed)} failed")
    st.dataframe(latest[["severity", "suite", "expectation", "success", "unexpected_count", "observed", "why"]],
                 hide_index=True, width="stretch")
