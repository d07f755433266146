"""Interruption-frequency bands as rates per node-hour.

Interruption bands (``interruption_band``) become rates per node-hour (``band_rates``):

- ``"A-B%/month"`` (AWS Spot Advisor's bands ``<5%``, ``5-10%``, ``10-15%``, ``15-20%``,
  ``>20%``; Azure's eviction-rate bands read the same way): the share of instances interrupted
  in a month. With a constant hazard ``r`` an instance that runs ``L`` hours is interrupted with
  probability ``1 - exp(-r L)``, so ``r = -ln(1 - share) / L``. Nobody publishes ``L``: the low
  end takes the low share over a whole month (730 h, the longest an instance can have run), the
  high end the high share over a day (24 h, about a render node's life in an autoscaled pool).
  ``>20%`` is read as 20-40 %. The ledger's own history narrows this wide band.
- ``"A-B%/day"`` (GCP: a stated assumption): a share of VMs preempted per day, over 24 h.
"""

from __future__ import annotations

import math
import re

#: Hours in a month, the longest an instance can have run in a monthly band's window.
HOURS_PER_MONTH = 730.0
#: The lifetime that turns a monthly band's high share into the high rate (see the docstring).
SHORT_LIFE_HOURS = 24.0
#: What ">20%" is read as: AWS gives no upper end.
OPEN_BAND_HIGH = 40.0
_BAND = re.compile(
    r"^(?:<(?P<below>\d+)|>(?P<above>\d+)|(?P<lo>\d+)-(?P<hi>\d+))%/(?P<per>month|day)$"
)


def band_rates(label: str) -> tuple[float, float]:
    """Interruptions per node-hour, (low, high), of a band label such as ``"5-10%/month"``;
    the module docstring explains the conversion."""
    match = _BAND.match(label.replace(" ", ""))
    if match is None:
        raise ValueError(f"{label!r} is not a band like '<5%/month', '5-10%/month', '>20%/month'")
    if match["below"] is not None:
        low, high = 0.0, float(match["below"])
    elif match["above"] is not None:
        low, high = float(match["above"]), max(OPEN_BAND_HIGH, float(match["above"]))
    else:
        low, high = float(match["lo"]), float(match["hi"])
    if not 0 <= low <= high < 100:
        raise ValueError(f"{label!r}: shares run from 0 to below 100 %, low end first")
    if match["per"] == "day":
        return _rate(low, 24.0), _rate(high, 24.0)
    return _rate(low, HOURS_PER_MONTH), _rate(high, SHORT_LIFE_HOURS)


def _rate(percent: float, hours: float) -> float:
    return -math.log1p(-percent / 100.0) / hours
