"""The dashboard's entry point: `speechcraft dashboard` (or `streamlit run` this file with $SPEECHCRAFT_LAKE)."""
import streamlit as st

st.set_page_config(page_title="SpeechCraft lakehouse", page_icon=":material/graphic_eq:", layout="wide")

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/distributions.py", title="Distributions", icon=":material/bar_chart:"),
    st.Page("pages/validation.py", title="Validation", icon=":material/verified:"),
    st.Page("pages/clips.py", title="Clip browser", icon=":material/library_music:"),
    st.Page("pages/search.py", title="Search", icon=":material/search:"),
    st.Page("pages/sql.py", title="SQL", icon=":material/terminal:"),
]
st.navigation(pages).run()
