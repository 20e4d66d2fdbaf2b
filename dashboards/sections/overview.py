"""Overview: what is in the lakehouse, how far each stage got, the latest quality verdict, recent runs."""
import altair as alt
import streamlit as st

from speechcraft.dashboards.common import lake_uri, report, require_clips, show

totals = require_clips()
st.title("SpeechCraft lakehouse")
st.caption(f"`{lake_uri()}`")
a, b, c, d = st.columns(4)
a.metric("clips", f"{totals['clips']:,}")
b.metric("hours", f"{totals['hours']:,.2f}")
c.metric("speakers", f"{totals['speakers']:,}")
d.metric("corpora", totals["corpora"])

quality = report("latest_quality")
if quality.empty:
    st.warning("No quality check has run yet: `speechcraft check`")
else:
    blocking = quality[(quality.severity == "critical") & ~quality.success]
    warnings = quality[(quality.severity == "warning") & ~quality.success]
    text = (f"{len(quality)} expectations, {len(blocking)} critical and {len(warnings)} warning failures, "
            f"checked {quality.checked_at.max():%Y-%m-%d %H:%M} UTC")
    (st.error if len(blocking) else st.success)(("Quality gate FAILED: exports are blocked — " if len(blocking)
                                                  else "Quality gate passed — ") + text)

st.subheader("Corpora")
corpora = report("corpora")
left, right = st.columns([3, 2])
left.dataframe(corpora, hide_index=True, width="stretch")
with right:
    show(alt.Chart(corpora, title="hours per corpus").mark_bar().encode(
        x=alt.X("hours:Q"), y=alt.Y("corpus:N", sort="-x", title=None), color="language:N",
        tooltip=["corpus", "language", "clips", "speakers", "hours"]).properties(height=240))

st.subheader("Stage coverage")
coverage = report("stage_coverage")
left, right = st.columns([3, 2])
left.dataframe(coverage, hide_index=True, width="stretch",
               column_config={"share": st.column_config.ProgressColumn("share of clips", format="percent",
                                                                       min_value=0.0, max_value=1.0)})
with right:
    show(alt.Chart(coverage, title="clips done per stage").mark_bar().encode(
        x=alt.X("clips:Q"), y=alt.Y("stage:N", sort="-x", title=None), color=alt.Color("version:N", legend=None),
        tooltip=["stage", "annotator", "version", "clips"]).properties(height=240))

st.subheader("Recent runs")
st.dataframe(report("recent_runs"), hide_index=True, width="stretch")
