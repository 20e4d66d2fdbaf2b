"""The dashboard's entry point: `speechcraft dashboard` (or `streamlit run` this file with $SPEECHCRAFT_LAKE)."""
import streamlit as st

st.set_page_config(page_title="SpeechCraft lakehouse", page_icon=":material/graphic_eq:", layout="wide")

pages = [
    st.Page("sections/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("sections/distributions.py", title="Distributions", icon=":material/bar_chart:"),
    st.Page("sections/validation.py", title="Validation", icon=":material/verified:"),
    st.Page("sections/clips.py", title="Clip browser", icon=":material/library_music:"),
    st.Page("sections/search.py", title="Search", icon=":material/search:"),
    st.Page("sections/voices.py", title="Voices", icon=":material/record_voice_over:"),
    st.Page("sections/sql.py", title="SQL", icon=":material/terminal:"),
]
st.navigation(pages).run()
