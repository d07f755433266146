"""The price catalogue: on-demand and spot prices, shapes and interruption bands of the instance
types a render farm uses, per cloud and region, with the date and source of every figure.

``catalogue`` reads the shipped ``catalogue.json`` and the override file ``cloudrender prices
refresh`` writes (``load_catalogue``, ``Catalogue.lookup``, ``Offer``); ``refresh`` pulls live
figures from the clouds' price APIs, one module each (``aws``, ``gcp``, ``azure``) over
``http`` for the plain HTTPS ones; ``bands`` turns interruption bands into rates. Reading the
catalogue is pure and offline.
"""

from __future__ import annotations

from providers.compute.prices.bands import band_rates
from providers.compute.prices.catalogue import Catalogue, CatalogueError, Offer, load_catalogue

__all__ = ["Catalogue", "CatalogueError", "Offer", "band_rates", "load_catalogue"]
