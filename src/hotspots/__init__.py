"""hotspots: crime hotspot engine for community-safety partnerships.

Inside the engine everything is EPSG:27700 (British National Grid, metres).
"""

__version__ = "0.1.0"
