"""Stage ``tasking``: the ranked FIM tasking list, built after the analysis stages it reads.

Reads ``[tasking]`` and the playbook (``[playbook]``, loaded with the config)
and the results of the surfaces, trends, near-repeat and coverage stages
(any of them may be missing: the list says "not run" where it would use them).
The previous pack is the one given with ``--previous``, else the latest
earlier ``fim-YYYY-MM-DD`` folder beside this run's pack.
"""

from __future__ import annotations

from ..stages.registry import Stage
from ..stages.results import RunResults, TaskingList
from .fim import build_tasking


def run(res: RunResults) -> TaskingList:
    return build_tasking(res, previous=res.inputs.previous_pack, out_dir=res.inputs.pack_dir)


STAGE: Stage[TaskingList] = Stage(
    name="tasking",
    title="tasking list",
    sections=("tasking", "playbook", "analysis"),
    depends_on=("surfaces", "trends", "nearrepeat", "coverage"),
    run=run,
    optional=False,
)
