"""Stage ``tasking``: the ranked FIM tasking list, built after the analysis stages it reads.

Reads ``[tasking]``, the playbook (``[playbook]``, loaded with the config), the
harm scheme's unit (``[harm]``) and the near-repeat crime types (``[nearrepeat]``),
and the results of the surfaces, trends, near-repeat, coverage, concentration and patrol dosage stages (any
of them may be missing: the column that would use it is left out, saying why).
The previous pack is the one given with ``--previous``, else the latest
earlier ``fim-YYYY-MM-DD`` folder beside this run's pack.
"""

from __future__ import annotations

from ..stages.registry import Stage
from ..stages.results import RunResults, TaskingList
from .fim import build_tasking


def run(res: RunResults) -> TaskingList:
    """The list, with the patrol delivered at the last list's places when the dosage stage ran."""
    tl = build_tasking(res, previous=res.inputs.previous_pack, out_dir=res.inputs.pack_dir)
    return tl.with_delivered(res.dosage.delivered()) if res.dosage is not None else tl


STAGE: Stage[TaskingList] = Stage(
    name="tasking",
    title="tasking list",
    sections=("tasking", "playbook", "analysis", "harm", "nearrepeat"),
    depends_on=("surfaces", "trends", "nearrepeat", "coverage", "concentration", "dosage"),
    run=run,
    optional=False,
)
