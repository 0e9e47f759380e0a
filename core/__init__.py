"""MAC Security Console core: the rules, queries and writes, with no user interface.

The dashboard pages, the command line (``python -m core``) and the analyst's notebook all
call the service functions here; nothing in this package imports streamlit.
"""
