"""Getting data in: files (CSV, JSON Lines, Parquet), source adapters (Olist, XES, TWCS, Telco)
and, later, the live tracking API. Every path ends in the same set-based pipeline."""
