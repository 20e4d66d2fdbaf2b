"""The Streamlit dashboard: reads the lakehouse through warehouse/ only, read-only."""
