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
    steps: list[str]
    dosage: str
    feel: str
    stop_if: str
    illustration: str


# What every exercise shares for posterior ankle impingement: never force the foot down into
# end-range pointing, and pain or pinching at the back of the ankle means stop.


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
        "steps": [
            gettext_noop("Stand facing a wall with both hands on it at shoulder height."),
            gettext_noop(
                "Step the affected leg back, knee straight, heel flat on the floor, toes "
                "pointing forward."
            ),
            gettext_noop(
                "Bend the front knee and lean your hips towards the wall until you feel a "
                "stretch in the calf of the back leg."
            ),
            gettext_noop("Hold, breathing normally, then ease off slowly."),
        ],
        "dosage": gettext_noop("3 sets × 30 s hold"),
        "feel": gettext_noop(
            "A steady, gentle pull in the upper calf that eases a little as you hold."
        ),
        "stop_if": gettext_noop(
            "Pain or pinching at the back of the ankle, or tingling or numbness in the foot."
        ),
        "illustration": "img/exercises/calf-stretch-gastrocnemius.svg",
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
        "steps": [
            gettext_noop(
                "Stand facing a wall with both hands on it, the affected leg a short step back."
            ),
            gettext_noop("Keeping both heels down, bend both knees and sink straight down."),
            gettext_noop("Stop when you feel a stretch low in the calf, just above the heel."),
            gettext_noop("Hold, then straighten up slowly."),
        ],
        "dosage": gettext_noop("3 sets × 30 s hold"),
        "feel": gettext_noop("A gentle pull low in the calf, near the Achilles tendon."),
        "stop_if": gettext_noop(
            "Sharp or pinching pain in the ankle, or the heel has to lift to go further."
        ),
        "illustration": "img/exercises/calf-stretch-soleus.svg",
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
        "steps": [
            gettext_noop("Sit with the affected leg straight out in front of you."),
            gettext_noop("Hold the big toe and gently pull it, and the foot, up towards you."),
            gettext_noop("Stop when you feel a stretch under the foot and behind the inner ankle."),
            gettext_noop("Hold, then let go slowly."),
        ],
        "dosage": gettext_noop("3 sets × 30 s hold"),
        "feel": gettext_noop("A gentle pull along the sole and behind the inner ankle bone."),
        "stop_if": gettext_noop(
            "Sharp pain behind the inner ankle, catching or clicking of the big toe, or tingling "
            "in the foot."
        ),
        "illustration": "img/exercises/fhl-stretch.svg",
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
        "steps": [
            gettext_noop("Sit with the leg supported so that the foot hangs free."),
            gettext_noop(
                "Moving only the ankle, draw the capital letters A to Z in the air with your big "
                "toe."
            ),
            gettext_noop(
                "Keep the letters small enough to stay pain-free; do not force the toes down to "
                "finish a letter."
            ),
        ],
        "dosage": gettext_noop("2 sets × A to Z"),
        "feel": gettext_noop("Easy movement; mild stiffness that eases as you go is fine."),
        "stop_if": gettext_noop(
            "Pointing the foot pinches the back of the ankle, or the pain builds as you go."
        ),
        "illustration": "img/exercises/ankle-alphabet.svg",
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
        "steps": [
            gettext_noop("Sit with the leg supported and the foot free."),
            gettext_noop("Slowly circle the foot clockwise, as large as is comfortable."),
            gettext_noop("Repeat anticlockwise."),
            gettext_noop("Keep out of the painful end of pointing the foot."),
        ],
        "dosage": gettext_noop("2 sets × 10 each way"),
        "feel": gettext_noop("Smooth, easy movement; the ankle may feel warmer and looser."),
        "stop_if": gettext_noop("The back of the ankle pinches or clicks painfully."),
        "illustration": "img/exercises/ankle-circles.svg",
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
        "steps": [
            gettext_noop(
                "Stand with your feet hip-width apart, holding a worktop or chair for balance."
            ),
            gettext_noop(
                "Rise onto the balls of both feet, keeping your weight over the big toes."
            ),
            gettext_noop(
                "Go only as high as is pain-free: stop short of the position that pinches the "
                "back of the ankle."
            ),
            gettext_noop("Lower slowly, counting to three."),
        ],
        "dosage": gettext_noop("3 sets × 15"),
        "feel": gettext_noop("The calves tire by the last few; a burning in the muscle is normal."),
        "stop_if": gettext_noop(
            "Pain at the back of the ankle, or pain that is still there the next morning."
        ),
        "illustration": "img/exercises/heel-raises-double.svg",
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
        "steps": [
            gettext_noop("Start only once double-leg heel raises are pain-free."),
            gettext_noop("Stand on the affected leg, holding a support, the other foot lifted."),
            gettext_noop("Rise onto the ball of the foot as far as is pain-free."),
            gettext_noop("Lower slowly, counting to three."),
        ],
        "dosage": gettext_noop("3 sets × 10"),
        "feel": gettext_noop("Hard work in the calf by the end of each set."),
        "stop_if": gettext_noop(
            "The back of the ankle hurts or the ankle gives way: go back to double-leg raises."
        ),
        "illustration": "img/exercises/heel-raises-single.svg",
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
        "steps": [
            gettext_noop(
                "Sit with the leg straight out and a resistance band around the forefoot."
            ),
            gettext_noop(
                "Anchor the band on the inner side, around the other foot or a table leg."
            ),
            gettext_noop("Keeping the heel still, turn the sole outwards against the band."),
            gettext_noop("Return slowly to the start."),
        ],
        "dosage": gettext_noop("3 sets × 15"),
        "feel": gettext_noop("The muscles on the outer side of the lower leg working."),
        "stop_if": gettext_noop("Pain in the ankle joint itself, or the band slips."),
        "illustration": "img/exercises/band-eversion.svg",
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
        "steps": [
            gettext_noop(
                "Sit with the leg straight out and a resistance band around the forefoot."
            ),
            gettext_noop(
                "Anchor the band on the outer side, around a table leg or held by a helper."
            ),
            gettext_noop("Keeping the heel still, turn the sole inwards against the band."),
            gettext_noop("Return slowly to the start."),
        ],
        "dosage": gettext_noop("3 sets × 15"),
        "feel": gettext_noop(
            "The muscles on the inner side of the lower leg and the arch working."
        ),
        "stop_if": gettext_noop("Pain in the ankle joint itself, or the band slips."),
        "illustration": "img/exercises/band-inversion.svg",
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
        "steps": [
            gettext_noop("Stand beside a worktop or chair you can hold if needed."),
            gettext_noop(
                "Lift the other foot and balance on the affected leg, knee slightly bent."
            ),
            gettext_noop("Keep your weight spread over the whole foot."),
            gettext_noop(
                "When 30 seconds is easy, try it with your eyes closed or standing on a cushion."
            ),
        ],
        "dosage": gettext_noop("3 sets × 30 s"),
        "feel": gettext_noop("Small wobbles at the ankle as the muscles work, without pain."),
        "stop_if": gettext_noop(
            "Pain in the ankle, or you cannot balance without grabbing the support."
        ),
        "illustration": "img/exercises/single-leg-balance.svg",
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
        "steps": [
            gettext_noop("Sit with the foot flat on a towel on a smooth floor."),
            gettext_noop("Keeping the heel down, scrunch the towel towards you with your toes."),
            gettext_noop("When the towel is gathered, push it back out with your toes."),
        ],
        "dosage": gettext_noop("3 sets × 10"),
        "feel": gettext_noop("Work under the arch of the foot; it may cramp a little at first."),
        "stop_if": gettext_noop(
            "A cramp that does not ease with rest, or pain in the big toe joint."
        ),
        "illustration": "img/exercises/towel-toe-curls.svg",
    },
]
