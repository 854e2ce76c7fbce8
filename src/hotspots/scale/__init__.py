"""Running the engine at force scale: a synthetic London-sized dataset, per-tile KDE and Dask.

* :mod:`hotspots.scale.london` writes a London-sized synthetic dataset (33 borough-sized
  areas built by the demo generator) as one partitioned GeoParquet dataset plus a
  ready-to-run config per borough.
* :mod:`hotspots.scale.tiles` computes a kernel density surface tile by tile, each tile
  with a halo of the kernel's reach, so the stitched result equals the untiled surface.
* :mod:`hotspots.scale.distributed` sends naturally separate work (one FIM pack per
  borough, backtest origins x methods, KDE tiles) to a Dask cluster, or runs it locally
  when no scheduler is given. Results are identical to the serial run.

Nothing heavy is imported here, so ``import hotspots.scale`` is cheap.
"""
