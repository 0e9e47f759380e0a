"""The command line, ``python -m core``: a thin adapter over the same services as the pages.

Modules
    ``app``     the typer application and its commands.
    ``output``  plain rendering of rows: an aligned table, CSV or JSON.
"""
