"""The demo installation: two clinics, their staff, and patients whose trials tell distinct stories.

``seed_demo`` lays every episode out relative to the day it runs, so the caseload, the progress
pages and the alerts look alive on whatever day somebody opens the demo. Running it again
rebuilds the demo patients' episodes around the new today and resets the demo passwords; it never
touches anybody else's data.

The numbers are fixed (no randomness), so the findings each course produces are predictable; the
comments on each course say which findings the clinical rules raise for it. Each course also has
its function questionnaires (FAAM and PSFS, docs/questionnaires.md): a baseline in the first
week, then answers that match the pain: function improving with the pain, and the referred and
overdue patients' Sports function not improving by its MCID (``FUNCTION_NOT_IMPROVING``). Once
the data is in, each active demo episode is evaluated as of the patient's today, so the alert
inbox is populated at once rather than after the nightly run (the therapist's alert emails go
out as usual).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from accounts.audit import audit_record
from accounts.emails import normalize_email
from accounts.models import Clinic, Patient, Role, User
from rehab import referrals, rules, services
from rehab.evaluation import episode_progress, evaluate_episode
from rehab.models import Diagnosis, Episode, EpisodeStatus, InterventionKind, Side
from rehab.questionnaires import questionnaire_response_record

DEMO_CLINIC_SLUG = "demo"
NORTHSIDE_CLINIC_SLUG = "northside"
DEMO_PATIENT_PASSWORD = "demo-patient-pass"  # noqa: S105 - published demo credentials


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    role: str
    first_name: str
    last_name: str


@dataclass(frozen=True)
class Rx:
    """A prescription, by trial day (day 1 is the episode's start)."""

    exercise: str
    sets: int
    from_day: int = 1
    to_day: int | None = None


@dataclass(frozen=True)
class Treatment:
    kind: str
    from_day: int
    to_day: int | None = None
    site: str = ""
    note: str = ""


@dataclass(frozen=True)
class Referral:
    day: int
    referred_to: str
    note: str
    # The follow-up (docs/referrals.md): when the appointment was booked (trial day, may lie
    # ahead of today) and what the clinic noted about it.
    appointment_day: int | None = None
    follow_up_note: str = ""


@dataclass(frozen=True)
class Function:
    """One day's FAAM and PSFS answers, by trial day.

    ``adl`` and ``sports`` are the scores (0–100) the FAAM answers are laid out to give, as
    nearly as whole answers allow (``faam_answers``); ``na`` names the items answered N/A;
    ``psfs`` rates the course's ``activities`` in their order. ``by_therapist``: entered by the
    therapist at a visit (the intake), not by the patient on their phone.
    """

    day: int
    adl: int
    sports: int
    psfs: tuple[int, ...]
    na: tuple[str, ...] = ()
    by_therapist: bool = False


@dataclass(frozen=True)
class Course:
    """One patient's trial as of today.

    ``first_week`` holds pain during activity for trial days 1-7 and ``last_week`` for the seven
    days ending today (None: no entry that day). Days in between follow a straight line from the
    first week's mean to the last week's, with a fixed wobble, except the ``missed`` days.
    """

    story: str
    email: str
    first_name: str
    last_name: str
    timezone: str
    trial_day: int
    affected_side: str
    diagnosis: str
    first_week: tuple[int | None, ...]
    last_week: tuple[int | None, ...]
    missed: frozenset[int]
    rom_affected: tuple[int, int]
    rom_unaffected: int
    prescriptions: tuple[Rx, ...]
    half_adherence: bool = False
    rest_below_activity: int = 3
    bmi: Decimal | None = None
    treatments: tuple[Treatment, ...] = ()
    referral: Referral | None = None
    notes: dict[int, str] = field(default_factory=dict)
    # The PSFS activities the patient named, and their questionnaires (see Function).
    activities: tuple[str, ...] = ()
    function: tuple[Function, ...] = ()


# A small, zero-sum wobble so the middle weeks do not look machine-drawn.
_WOBBLE = (0, 1, 0, -1, 0, 1, -1, 0, 0, -1, 1, 0)

# Today's entry is left open on purpose: whoever signs in as a demo patient finds today's form
# empty and can log it. Every course keeps at least four entries in the last seven days anyway.
DEMO_COURSES: tuple[Course, ...] = (
    # IMPROVING (info): baseline 7.0, last week 3.4 -> change 3.6 points, 51%.
    Course(
        story="improving",
        email="patient1@demo.test",
        first_name="Ava",
        last_name="Martin",
        timezone="Europe/London",
        trial_day=30,
        affected_side=Side.RIGHT,
        diagnosis=Diagnosis.OS_TRIGONUM,
        first_week=(7, 7, 8, 7, 6, 7, 7),
        last_week=(4, 3, None, 3, 4, 3, None),
        missed=frozenset({12, 19}),
        rom_affected=(26, 36),
        rom_unaffected=45,
        prescriptions=(
            Rx("Calf stretch (gastrocnemius)", 3),
            Rx("FHL stretch (big toe flexor)", 3),
            Rx("Double-leg heel raises", 3, to_day=14),
            Rx("Single-leg heel raises", 3, from_day=15),
        ),
        treatments=(
            Treatment(
                InterventionKind.NSAID,
                1,
                10,
                note="Ibuprofen 400 mg three times a day with food, for ten days.",
            ),
        ),
        notes={
            3: "Hurts most on stairs and when rising onto my toes.",
            21: "Walked 5 km to work without the pinch at the back of the ankle.",
        },
        # Function improves with the pain: Sports 34 -> 59 by day 28, a check-in outside the
        # windows (kept and shown); the review window opens on day 39.
        activities=("Running", "Going down stairs", "Rising onto the toes"),
        function=(
            Function(2, adl=62, sports=34, psfs=(3, 4, 2)),
            Function(28, adl=83, sports=59, psfs=(6, 7, 6)),
        ),
    ),
    # REFERRAL_CONSIDER (high) on days 42-55: baseline 7.0, last week 6.0 -> change 1.0 (14%),
    # adherence above 80%. Also ROM_DEFICIT (info: 45 vs ~27 degrees) and BMI_ELEVATED (info).
    Course(
        story="not improving",
        email="patient2@demo.test",
        first_name="Ben",
        last_name="Okafor",
        timezone="Europe/London",
        trial_day=45,
        affected_side=Side.LEFT,
        diagnosis=Diagnosis.POSTERIOR_TALAR_PROCESS,
        first_week=(7, 8, 7, 7, 6, 7, 7),
        last_week=(6, 6, 7, 6, 5, 6, None),
        missed=frozenset({17, 30}),
        rom_affected=(24, 27),
        rom_unaffected=45,
        bmi=Decimal("31.4"),
        prescriptions=(
            Rx("Calf stretch (soleus)", 3),
            Rx("Ankle alphabet (mobility)", 2),
            Rx("Resisted eversion with band", 3),
        ),
        treatments=(
            Treatment(
                InterventionKind.IMMOBILIZATION,
                1,
                7,
                note="Walking boot for the acute flare; one week only.",
            ),
        ),
        notes={44: "Still a sharp pinch going downstairs, even after six weeks."},
        # FUNCTION_NOT_IMPROVING (info): FAAM Sports 28.1 at intake, 31.3 at the review (day 42):
        # +3.2, short of the MCID of 9.
        activities=("Five-a-side football", "Going down stairs", "Jogging"),
        function=(
            Function(1, adl=57, sports=28, psfs=(2, 3, 3), by_therapist=True),
            Function(42, adl=61, sports=31, psfs=(3, 3, 4)),
        ),
    ),
    # ADHERENCE_LOW (warning): about half the prescribed sets done; recommendation
    # address_adherence (the trial is not interpretable yet, not failed).
    Course(
        story="low adherence",
        email="patient3@demo.test",
        first_name="Chloe",
        last_name="Dubois",
        timezone="Europe/London",
        trial_day=30,
        affected_side=Side.RIGHT,
        diagnosis=Diagnosis.SOFT_TISSUE,
        first_week=(6, 7, 6, 6, 7, 6, 6),
        last_week=(5, 6, 5, None, 6, 5, None),
        missed=frozenset({9, 16, 23}),
        rom_affected=(28, 31),
        rom_unaffected=46,
        half_adherence=True,
        prescriptions=(
            Rx("Calf stretch (gastrocnemius)", 3),
            Rx("Resisted inversion with band", 3),
            Rx("Single-leg balance", 3),
        ),
        treatments=(
            Treatment(
                InterventionKind.ACTIVITY_MODIFICATION,
                1,
                note="No pointe work or downhill running during the trial.",
            ),
        ),
        notes={
            11: "Busy week at work, skipped most of the exercises.",
            25: "Left the band at home again.",
        },
        activities=("Pointe work", "Downhill running"),
        function=(Function(3, adl=66, sports=41, psfs=(4, 5)),),
    ),
    # PAIN_WORSENING (high): baseline 4.0, the last days at 7 (>= baseline + 2.0); ROM_DECLINE
    # (warning): affected plantar flexion falls from ~34 to ~22 degrees.
    Course(
        story="worsening",
        email="patient4@demo.test",
        first_name="Daniel",
        last_name="Kim",
        timezone="Europe/London",
        trial_day=20,
        affected_side=Side.LEFT,
        diagnosis=Diagnosis.OS_TRIGONUM,
        first_week=(4, 4, 3, 4, 5, 4, 4),
        last_week=(5, 5, 6, 6, 7, 7, None),
        missed=frozenset(),
        rom_affected=(34, 21),
        rom_unaffected=46,
        rest_below_activity=2,
        prescriptions=(
            Rx("Calf stretch (soleus)", 3),
            Rx("Double-leg heel raises", 3),
            Rx("Towel toe curls", 3),
        ),
        treatments=(
            Treatment(
                InterventionKind.NSAID,
                10,
                16,
                note="Naproxen 500 mg twice a day for a week.",
            ),
        ),
        notes={
            16: "Back to dance class; sharp pinch at the back of the ankle on relevé.",
            19: "Aching at night now.",
        },
        activities=("Relevé", "Jumps", "Barre work"),
        function=(Function(1, adl=78, sports=47, psfs=(5, 4, 6), by_therapist=True),),
    ),
    # RESOLVED (info): the last week's pain is 0-1 (mean 0.4); no referral finding.
    Course(
        story="resolved",
        email="patient5@demo.test",
        first_name="Emma",
        last_name="Rossi",
        timezone="Europe/London",
        trial_day=40,
        affected_side=Side.RIGHT,
        diagnosis=Diagnosis.SOFT_TISSUE,
        first_week=(6, 6, 7, 6, 5, 6, 6),
        last_week=(1, 0, 1, 0, None, 0, None),
        missed=frozenset({15, 22, 29}),
        rom_affected=(28, 43),
        rom_unaffected=45,
        prescriptions=(
            Rx("Calf stretch (gastrocnemius)", 3),
            Rx("Double-leg heel raises", 3),
            Rx("Single-leg balance", 3),
        ),
        treatments=(
            Treatment(
                InterventionKind.PARACETAMOL,
                1,
                5,
                note="1 g up to four times a day as needed.",
            ),
        ),
        notes={38: "Ran 10 km with no pain at all."},
        # Function back to nearly normal at the review window's first day (day 39).
        activities=("Running 10 km", "Hill walking", "Going down stairs"),
        function=(
            Function(2, adl=64, sports=38, psfs=(3, 4, 5)),
            Function(39, adl=95, sports=88, psfs=(9, 9, 10)),
        ),
    ),
    # Referred on day 44 after six adherent weeks without important improvement: recommendation
    # "referred", and no referral finding any more.
    Course(
        story="referred",
        email="patient6@demo.test",
        first_name="Farid",
        last_name="Haddad",
        timezone="Europe/London",
        trial_day=50,
        affected_side=Side.LEFT,
        diagnosis=Diagnosis.OS_TRIGONUM,
        first_week=(8, 7, 8, 8, 7, 8, 7),
        last_week=(7, 7, 6, 7, None, 7, None),
        missed=frozenset({11, 25, 36}),
        rom_affected=(22, 24),
        rom_unaffected=44,
        prescriptions=(
            Rx("Calf stretch (soleus)", 3),
            Rx("FHL stretch (big toe flexor)", 3),
            Rx("Resisted eversion with band", 3),
        ),
        treatments=(
            Treatment(
                InterventionKind.CORTICOSTEROID_INJECTION,
                28,
                28,
                site="posterior_ankle_posterolateral",
                note="Ultrasound-guided, into the os trigonum region. Single injection; short "
                "relief for about a week.",
            ),
        ),
        referral=Referral(
            day=44,
            referred_to="Foot and ankle surgeon, City Orthopaedics",
            note="No clinically important improvement after six adherent weeks; os trigonum on "
            "X-ray. Arthroscopic excision to be discussed.",
            # Booked by the surgeon's office two days after the referral, for next week.
            appointment_day=58,
            follow_up_note="Appointment confirmed by phone with the surgeon's office.",
        ),
        # Sports function not improving before the referral: 21.4 -> 25.0 (one item N/A), PSFS
        # 2.3 -> 2.7; the referral letter shows them beside pain.
        activities=("Basketball", "Jumping", "Going down stairs"),
        function=(
            Function(1, adl=52, sports=22, psfs=(2, 2, 3), na=("sports-5",), by_therapist=True),
            Function(41, adl=55, sports=25, psfs=(2, 3, 3), na=("sports-5",)),
        ),
    ),
    # REFERRAL_OVERDUE (critical) from day 56: not improving and no referral recorded yet.
    Course(
        story="overdue",
        email="patient7@demo.test",
        first_name="Grace",
        last_name="Liu",
        timezone="Europe/London",
        trial_day=58,
        affected_side=Side.RIGHT,
        diagnosis=Diagnosis.POSTERIOR_TALAR_PROCESS,
        first_week=(6, 7, 7, 6, 7, 7, 6),
        last_week=(6, 5, 6, 6, 5, 6, None),
        missed=frozenset({13, 27, 41}),
        rom_affected=(27, 29),
        rom_unaffected=45,
        prescriptions=(
            Rx("Calf stretch (gastrocnemius)", 3),
            Rx("Ankle alphabet (mobility)", 2),
            Rx("Double-leg heel raises", 3),
        ),
        # FUNCTION_NOT_IMPROVING (info): Sports 31.3 -> 34.4 at the review; the overdue day's
        # window (days 53-63) is open and not answered yet, so both are due today.
        activities=("Running", "Standing all day at work"),
        function=(
            Function(2, adl=60, sports=31, psfs=(3, 3)),
            Function(42, adl=63, sports=34, psfs=(3, 4)),
        ),
    ),
)

NORTHSIDE_COURSE = Course(
    story="improving",
    email="patient@northside.test",
    first_name="Hugo",
    last_name="Berg",
    timezone="Europe/Oslo",
    trial_day=15,
    affected_side=Side.RIGHT,
    diagnosis=Diagnosis.OS_TRIGONUM,
    first_week=(6, 6, 5, 6, 6, 5, 6),
    last_week=(4, 3, 4, 3, None, 3, None),
    missed=frozenset(),
    rom_affected=(30, 35),
    rom_unaffected=47,
    prescriptions=(
        Rx("Calf stretch (gastrocnemius)", 3),
        Rx("Active ankle circles", 2),
    ),
    activities=("Cross-country skiing", "Hiking"),
    function=(Function(1, adl=70, sports=44, psfs=(4, 5), by_therapist=True),),
)

DEMO_ADMIN = Account("admin@demo.test", "demo-admin-pass", Role.CLINIC_ADMIN, "Morgan", "Reyes")
DEMO_THERAPIST = Account(
    "therapist@demo.test", "demo-therapist-pass", Role.THERAPIST, "Jamie", "Park"
)
NORTHSIDE_THERAPIST = Account(
    "therapist@northside.test", "northside-therapist-pass", Role.THERAPIST, "Robin", "Hale"
)


@dataclass(frozen=True)
class SeededPatient:
    patient: Patient
    episode: Episode
    course: Course
    progress: rules.Evaluation


@dataclass(frozen=True)
class DemoResult:
    clinics: tuple[Clinic, Clinic]
    staff: tuple[tuple[User, Account], ...]
    patients: tuple[SeededPatient, ...]


def seed_demo() -> DemoResult:
    """Create or refresh the demo clinics, accounts and episodes, all in one transaction."""
    with transaction.atomic():
        demo = _clinic(DEMO_CLINIC_SLUG, "Demo Clinic")
        northside = _clinic(NORTHSIDE_CLINIC_SLUG, "Northside Clinic")
        admin = _staff(demo, DEMO_ADMIN)
        therapist = _staff(demo, DEMO_THERAPIST)
        north_therapist = _staff(northside, NORTHSIDE_THERAPIST)
        laid_out = [_patient_with_episode(demo, therapist, course) for course in DEMO_COURSES]
        laid_out.append(_patient_with_episode(northside, north_therapist, NORTHSIDE_COURSE))
    seeded = []
    for patient, episode, course in laid_out:
        today = patient.local_today()
        if episode.status == EpisodeStatus.ACTIVE:
            evaluate_episode(episode_id=episode.pk, as_of=today)
        progress = episode_progress(episode=episode, as_of=today)
        seeded.append(SeededPatient(patient, episode, course, progress))
    return DemoResult(
        clinics=(demo, northside),
        staff=(
            (admin, DEMO_ADMIN),
            (therapist, DEMO_THERAPIST),
            (north_therapist, NORTHSIDE_THERAPIST),
        ),
        patients=tuple(seeded),
    )


def _clinic(slug: str, name: str) -> Clinic:
    clinic, _ = Clinic.objects.update_or_create(slug=slug, defaults={"name": name})
    return clinic


def _account(clinic: Clinic, account: Account) -> tuple[User, bool]:
    """The user for ``account`` with the published password, role and clinic, made or reset."""
    user = User.objects.filter(email=normalize_email(account.email)).first()
    created = user is None
    if user is None:
        user = User(email=account.email)
    user.first_name = account.first_name
    user.last_name = account.last_name
    user.role = account.role
    user.clinic = clinic
    user.is_active = True
    user.set_password(account.password)
    user.save()
    return user, created


def _staff(clinic: Clinic, account: Account) -> User:
    user, created = _account(clinic, account)
    if created:
        audit_record(actor=None, action="user.created", obj=user, clinic_id=clinic.pk)
    return user


def _patient_with_episode(
    clinic: Clinic, therapist: User, course: Course
) -> tuple[Patient, Episode, Course]:
    # accounts.services.patient_create would email an invitation link; demo patients get a
    # password straight away instead, so no mail goes out.
    user, _ = _account(
        clinic,
        Account(
            course.email, DEMO_PATIENT_PASSWORD, Role.PATIENT, course.first_name, course.last_name
        ),
    )
    patient, created = Patient.objects.update_or_create(
        user=user, defaults={"therapist": therapist, "timezone": course.timezone}
    )
    if created:
        audit_record(
            actor=None,
            action="patient.created",
            obj=patient,
            clinic_id=clinic.pk,
            patient_id=patient.pk,
        )
    # The demo patients' episodes are rebuilt around today on every run. Deleting them here is
    # the one write outside rehab.services: no service removes an episode, because the product
    # itself never does.
    Episode.objects.filter(patient=patient).delete()
    episode = _lay_out_episode(patient=patient, therapist=therapist, course=course)
    return patient, episode, course


def trial_pain(course: Course) -> dict[int, int]:
    """Pain during activity by trial day, for the days that have an entry (before today)."""
    last_start = course.trial_day - len(course.last_week) + 1
    first_mean = _mean(course.first_week)
    last_mean = _mean(course.last_week)
    span = max(last_start - len(course.first_week), 1)
    pain: dict[int, int] = {}
    for day in range(1, course.trial_day + 1):
        value: int | None
        if day <= len(course.first_week):
            value = course.first_week[day - 1]
        elif day >= last_start:
            value = course.last_week[day - last_start]
        elif day in course.missed:
            value = None
        else:
            share = (day - len(course.first_week)) / span
            line = first_mean + (last_mean - first_mean) * share
            value = min(10, max(0, round(line) + _WOBBLE[day % len(_WOBBLE)]))
        if value is not None:
            pain[day] = value
    return pain


def _lay_out_episode(*, patient: Patient, therapist: User, course: Course) -> Episode:
    today = patient.local_today()
    start = today - dt.timedelta(days=course.trial_day - 1)

    def on(day: int) -> dt.date:
        return start + dt.timedelta(days=day - 1)

    rom_from, rom_to = course.rom_affected
    episode = services.episode_open(
        actor=therapist,
        patient=patient,
        affected_side=course.affected_side,
        start_date=start,
        diagnosis=course.diagnosis,
        intake_pain_activity=course.first_week[0],
        intake_pf_rom_affected=rom_from,
        intake_pf_rom_unaffected=course.rom_unaffected,
        bmi=course.bmi,
    )
    prescriptions = [
        services.prescription_create(
            actor=therapist,
            episode=episode,
            exercise=rx.exercise,
            sets=rx.sets,
            start_date=on(rx.from_day),
            end_date=on(rx.to_day) if rx.to_day is not None else None,
        )
        for rx in course.prescriptions
    ]
    for treatment in course.treatments:
        services.intervention_record(
            actor=therapist,
            episode=episode,
            kind=treatment.kind,
            start_date=on(treatment.from_day),
            end_date=on(treatment.to_day) if treatment.to_day is not None else None,
            site=treatment.site,
            note=treatment.note,
        )

    for day, pain in trial_pain(course).items():
        date = on(day)
        # Plantar flexion is measured twice a week (and on day 1), not every day.
        measured = day == 1 or day % 7 in (1, 4) or day == course.trial_day - 1
        rom = round(rom_from + (rom_to - rom_from) * (day - 1) / max(course.trial_day - 1, 1))
        exercises = [
            {"prescription": rx.pk, "sets_completed": _sets_done(course, day, index, rx.sets)}
            for index, rx in enumerate(prescriptions)
            if rx.is_active_on(date)
        ]
        services.entry_record(
            actor=patient.user,
            episode=episode,
            date=date,
            pain_activity=pain,
            pain_rest=max(0, pain - course.rest_below_activity),
            pf_rom_affected=rom if measured else None,
            pf_rom_unaffected=course.rom_unaffected + (day % 3) - 1 if measured else None,
            exercises=exercises,
            note=course.notes.get(day, ""),
        )

    therapist_or_patient = {True: therapist, False: patient.user}
    for answered in course.function:
        record_function(
            actor=therapist_or_patient[answered.by_therapist],
            episode=episode,
            course=course,
            answered=answered,
            date=on(answered.day),
        )

    if course.referral is not None:
        episode = services.episode_record_referral(
            actor=therapist,
            episode=episode,
            date=on(course.referral.day),
            referred_to=course.referral.referred_to,
            note=course.referral.note,
        )
        if course.referral.appointment_day is not None:
            referrals.referral_follow_up_update(
                actor=therapist,
                episode=episode,
                appointment_date=on(course.referral.appointment_day),
                note=course.referral.follow_up_note,
            )
    return episode


# FAAM items from the easiest to the hardest for an ankle with posterior impingement (standing
# and personal care first; rising onto the toes, squatting, jumping and the desired sport last):
# a patient's answers fall along this order.
_ADL_EASE = (1, 18, 2, 13, 17, 16, 3, 12, 14, 19, 6, 9, 8, 15, 4, 7, 5, 21, 20, 10, 11)
_SPORTS_EASE = (6, 1, 7, 4, 3, 5, 2, 8)


def faam_answers(*, adl: int, sports: int, na: Sequence[str] = ()) -> dict[str, int | str]:
    """FAAM answers whose subscale scores come as near ``adl`` and ``sports`` as whole answers
    allow: the points a subscale needs, shared out evenly, then spread (the easiest items a
    point higher, the hardest a point lower, in pairs) so the answers look like a person's.
    Items in ``na`` are answered N/A."""
    answers: dict[str, int | str] = {}
    for subscale, target, ease in (("adl", adl, _ADL_EASE), ("sports", sports, _SPORTS_EASE)):
        items = [f"{subscale}-{n}" for n in ease if f"{subscale}-{n}" not in na]
        total = round(target * 4 * len(items) / 100)
        base, extra = divmod(total, len(items))
        values = [base + (1 if rank < extra else 0) for rank in range(len(items))]
        for easy, hard in zip(range(len(items) // 3), range(len(items) - 1, 0, -1), strict=False):
            if values[easy] < 4 and values[hard] > 0:
                values[easy] += 1
                values[hard] -= 1
        answers.update(zip(items, values, strict=True))
        answers.update({link_id: "na" for link_id in na if link_id.startswith(subscale)})
    return answers


def record_function(
    *, actor: User, episode: Episode, course: Course, answered: Function, date: dt.date
) -> None:
    """The day's FAAM and PSFS, through the service a phone or the API uses."""
    questionnaire_response_record(
        actor=actor,
        episode=episode,
        instrument="faam",
        date=date,
        answers=faam_answers(adl=answered.adl, sports=answered.sports, na=answered.na),
    )
    questionnaire_response_record(
        actor=actor,
        episode=episode,
        instrument="psfs",
        date=date,
        activities=[
            {"activity": activity, "score": score}
            for activity, score in zip(course.activities, answered.psfs, strict=True)
        ],
    )


def _sets_done(course: Course, day: int, index: int, prescribed: int) -> int:
    if course.half_adherence:
        # One set or two of three, taking turns, and now and then nothing: about half overall.
        if day % 14 == 5:
            return 0
        return (prescribed + 1) // 2 if (day + index) % 2 else prescribed // 2
    # Good adherence (~90%): a set short now and then, and an exercise skipped every ninth day.
    if day % 9 == 0 and index == len(course.prescriptions) - 1:
        return 0
    if day % 4 == 0 and index == 0:
        return prescribed - 1
    return prescribed


def _mean(values: Sequence[int | None]) -> float:
    present = [v for v in values if v is not None]
    return sum(present) / len(present)
