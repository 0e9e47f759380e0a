"""What the console reports: adoption, its history, users at risk, search and CSV files.

Modules
    ``queries``         named read queries answered by SQL aggregates.
    ``reports``         adoption over time, users at risk, the Overview's headline figures.
    ``running_counts``  the counts the database's triggers keep, behind every adoption figure.
    ``search_index``    the n-gram index behind the address-fragment search.
    ``exports``         CSV files that open safely in a spreadsheet, streamed.
    ``links``           signed, short-lived download links for the large exports.

Rules
    * The month report covers ``reports.DEFAULT_MONTHS`` UTC months unless asked otherwise,
      on the Overview, the Reports page, the command line and in the notebook alike.
"""
