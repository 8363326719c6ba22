"""The starting exercise catalogue for posterior ankle impingement rehabilitation.

Stretches restore plantar flexion and ease posterior compression; strengthening and balance work
stabilise the ankle (see the clinician treatment summary in the project's sources).
"""

from __future__ import annotations

from typing import TypedDict

from django.utils.translation import gettext_noop


# The catalogue is stored in the database in English (migration 0002) and copied into each
# prescription, so it is API data: the words are only marked here (gettext_noop), and pages
# translate them when they show them (the ``catalogue_text`` template filter).
class CatalogueExercise(TypedDict):
    name: str
    category: str
    default_sets: int
    default_reps: str
    instructions: str


PAIS_EXERCISES: list[CatalogueExercise] = [
    {
        "name": gettext_noop("Calf stretch (gastrocnemius)"),
        "category": "stretch",
        "default_sets": 3,
        "default_reps": gettext_noop("30 s hold"),
        "instructions": gettext_noop(
            "Hands on a wall, affected leg back with the knee straight and the heel "
            "down. Lean forward until you feel a stretch in the calf. No pain at the back of the "
            "ankle."
        ),
    },
    {
        "name": gettext_noop("Calf stretch (soleus)"),
        "category": "stretch",
        "default_sets": 3,
        "default_reps": gettext_noop("30 s hold"),
        "instructions": gettext_noop(
            "As the calf stretch, but bend the back knee while keeping the heel "
            "down. The stretch is felt lower in the calf."
        ),
    },
    {
        "name": gettext_noop("FHL stretch (big toe flexor)"),
        "category": "stretch",
        "default_sets": 3,
        "default_reps": gettext_noop("30 s hold"),
        "instructions": gettext_noop(
            "Sitting, pull the big toe and the foot gently up towards you until you "
            "feel a stretch under the foot and behind the inner ankle."
        ),
    },
    {
        "name": gettext_noop("Ankle alphabet (mobility)"),
        "category": "mobility",
        "default_sets": 2,
        "default_reps": gettext_noop("A to Z"),
        "instructions": gettext_noop(
            "Sitting with the leg supported, draw the letters of the alphabet in the "
            "air with your big toe. Keep the movement within a pain-free range."
        ),
    },
    {
        "name": gettext_noop("Active ankle circles"),
        "category": "mobility",
        "default_sets": 2,
        "default_reps": gettext_noop("10 each way"),
        "instructions": gettext_noop(
            "Slow circles of the foot, clockwise then anticlockwise, staying out of "
            "painful end-range pointing."
        ),
    },
    {
        "name": gettext_noop("Double-leg heel raises"),
        "category": "strength",
        "default_sets": 3,
        "default_reps": "15",
        "instructions": gettext_noop(
            "Stand holding a support. Rise onto the balls of both feet and lower "
            "slowly over three seconds. Stop short of the position that pinches the back of the "
            "ankle."
        ),
    },
    {
        "name": gettext_noop("Single-leg heel raises"),
        "category": "strength",
        "default_sets": 3,
        "default_reps": "10",
        "instructions": gettext_noop(
            "As double-leg heel raises, on the affected leg only, once double-leg "
            "raises are pain-free."
        ),
    },
    {
        "name": gettext_noop("Resisted eversion with band"),
        "category": "strength",
        "default_sets": 3,
        "default_reps": "15",
        "instructions": gettext_noop(
            "Band around the forefoot, anchored on the inner side. Turn the sole "
            "outwards against the band, then return slowly."
        ),
    },
    {
        "name": gettext_noop("Resisted inversion with band"),
        "category": "strength",
        "default_sets": 3,
        "default_reps": "15",
        "instructions": gettext_noop(
            "Band around the forefoot, anchored on the outer side. Turn the sole "
            "inwards against the band, then return slowly."
        ),
    },
    {
        "name": gettext_noop("Single-leg balance"),
        "category": "balance",
        "default_sets": 3,
        "default_reps": gettext_noop("30 s"),
        "instructions": gettext_noop(
            "Stand on the affected leg beside a support, knee soft. Progress to eyes "
            "closed or a cushion when steady."
        ),
    },
    {
        "name": gettext_noop("Towel toe curls"),
        "category": "strength",
        "default_sets": 3,
        "default_reps": "10",
        "instructions": gettext_noop(
            "Sitting, foot on a towel on the floor. Scrunch the towel towards you "
            "with your toes, then spread it out again."
        ),
    },
]
