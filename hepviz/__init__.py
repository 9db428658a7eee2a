"""hepviz: a dashboard and library for machine learning in particle physics.

The library under ``hepviz/`` never imports Streamlit, so the same code serves the
dashboard pages, the command line (``python -m hepviz``) and the tests.
"""

__version__ = "0.1.0"
