"""SQL: read-only queries over the documented tables and views, with a time limit."""
import os

import duckdb
import streamlit as st

from speechcraft.dashboards.common import lake_uri, report, require_clips
from speechcraft.warehouse.sql import QueryTimeoutError, ReadOnlyError, connect, query

TIME_LIMIT_S = float(os.environ.get("SPEECHCRAFT_SQL_TIME_LIMIT_S", "10"))
MAX_ROWS = 10_000

require_clips()
st.title("SQL")
st.caption(f"DuckDB over the lakehouse, read-only: SELECT and EXPLAIN only, {TIME_LIMIT_S:g} s at most, "
           f"the first {MAX_ROWS:,} rows shown. The same tables and views answer `speechcraft sql`.")
with st.expander("tables and views"):
    st.dataframe(report("catalog"), hide_index=True, width="stretch")
sql = st.text_area("query", "SELECT * FROM corpus_summary", height=140, key="sql")
if st.button("run", type="primary", key="run") or sql:
    try:
        result = query(sql, con=connect(lake_uri()), timeout_s=TIME_LIMIT_S, max_rows=MAX_ROWS)
    except (ReadOnlyError, QueryTimeoutError) as exc:
        st.error(f"refused: {exc}")
    except duckdb.Error as exc:
        st.error(f"the query failed: {exc}")
    else:
        st.caption(f"{result.num_rows:,} row{'s' if result.num_rows != 1 else ''}"
                   + (" (limit reached)" if result.num_rows == MAX_ROWS else ""))
        st.dataframe(result.to_pandas(), hide_index=True, width="stretch")
