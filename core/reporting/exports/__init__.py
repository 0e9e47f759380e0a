"""CSV files that open safely in a spreadsheet, streamed; and the same reports as DataFrames.

Modules
    ``cells``     the cell rules: quoting (RFC 4180) and the formula guard (OWASP "CSV
                  Injection"), for a ``,`` reader and a ``;`` reader alike; also in SQL.
    ``registry``  the reports: kinds, columns (stable; the README copies them), filters; the
                  adoption report's rows by brand, domain or month (``adoption_table``),
                  for the CSV and the command line alike, and ``check_brand``.
    ``streams``   the users export per engine (PostgreSQL, SQLite) and the audit log, in chunks.
    ``files``     ``iter_csv`` and ``write_csv``: header, then the rows; ``limit`` for previews.
    ``frames``    ``dataframe``: a report as a small DataFrame, for previews and the notebook.

Rules
    * Every text cell is quoted and goes through the formula guard; numbers, booleans,
      times and missing values are bare, so a number is never prefixed.
    * A file's bytes are those of ``cells.csv_line`` over the rows' values, whatever the
      engine and whatever shortcut the stream takes.
    * The large reports (users, audit) are never held whole: they stream in chunks.
"""
