"""The pack's pages that are not maps, one module each: ``index.html`` (:mod:`.index`), ``tasking.html``
(:mod:`.tasking`), ``public/index.html`` and the public maps' text (:mod:`.public_index`), with the
index's sections (:mod:`.headline`, :mod:`.sections`, :mod:`.forecast`) and the shared template
environment and wording (:mod:`.common`). Templates are constant files in ``render/templates`` rendered
with autoescape on: data reach them only as values, never as template source."""
