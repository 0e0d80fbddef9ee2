"""Writes iminuit's HTML tables for the fits tests/jupyter_html.rs repeats.

Run with a Python that has iminuit 2.33 (the project's anchor):
    python tests/jupyter/make_iminuit_html.py
"""

from pathlib import Path

from iminuit import Minuit

OUT = Path(__file__).parent / "iminuit-html"


def himmelblau(x, y):
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


# MIGRAD from (0, 0) with Minuit's numerical gradient: the minimum box,
# the parameters and the covariance with correlation colours.
m = Minuit(himmelblau, x=0, y=0)
m.migrad()
(OUT / "migrad.html").write_text(
    m.fmin._repr_html_() + m.params._repr_html_() + m.covariance._repr_html_()
)

# From (-2, 0), then MINOS: the parameters with their MINOS errors and the
# MINOS table, in the order Minuit._repr_html_ shows them.
m = Minuit(himmelblau, x=-2, y=0)
m.migrad()
m.hesse()
m.minos()
(OUT / "minos.html").write_text(m.params._repr_html_() + m.merrors._repr_html_())

# A limit within reach of the error turns the name and the limit yellow.
m = Minuit(lambda a, b: (a - 0.05) ** 2 / 0.01 + (b - 1) ** 2, a=0.5, b=0)
m.limits["a"] = (0, None)
m.migrad()
(OUT / "limits.html").write_text(m.params._repr_html_())
