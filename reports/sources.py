"""Where the rules' numbers come from, per finding, for reports a clinician can check.

The same table as "Why these numbers" in docs/clinical-rules.md, keyed so that a report can put
the sources beside each finding. A receiving surgeon should be able to see which figures are
evidence (a DOI to follow) and which are policy or a design choice of the product.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from rehab import rules

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True, slots=True)
class Source:
    # What the source supports, in a few words ("2 points and 30% is an important change").
    supports: StrOrPromise
    citation: str
    doi: str = ""

    @property
    def url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""


TRIAL_LENGTH = Source(
    supports=_(
        "6–8 weeks of conservative care before considering surgery (days 42 and 56); "
        "a policy, not a trial result"
    ),
    citation="Clinical treatment summary of posterior ankle impingement (guideline summary)",
)
SHARE_RESOLVED = Source(
    supports=_(
        "about 6 in 10 resolve without surgery (28 of 46 in one series; failure judged at 3 months)"
    ),
    citation="Cengiz et al., J Am Podiatr Med Assoc 2023",
    doi="10.7547/21-001",
)
MCID_FARRAR = Source(
    # xgettext:no-python-format
    supports=_("a fall of 2 points and 30% on the 0–10 pain scale is clinically important"),
    citation="Farrar et al., Pain 2001",
    doi="10.1016/s0304-3959(01)00349-9",
)
MCID_SALAFFI = Source(
    # xgettext:no-python-format
    supports=_("2 points / 30% confirmed as the important change on the 0–10 scale"),
    citation="Salaffi et al., Eur J Pain 2004",
    doi="10.1016/j.ejpain.2003.09.004",
)
MCID_LOW_BASELINE = Source(
    supports=_("from a low baseline (4 or less) the percentage alone is used"),
    citation="MCID by baseline pain band",
    doi="10.1055/a-1304-3677",
)
NRS_ERROR = Source(
    supports=_("a 2-point change exceeds the measurement error of the 0–10 scale (SEM ≈ 1)"),
    citation="Childs et al., Spine 2005",
    doi="10.1097/01.brs.0000164099.92112.29",
)
GONIOMETRY = Source(
    supports=_(
        "about 10° is the smallest real change of goniometric plantar flexion (SEM 3.3–3.6°)"
    ),
    citation="Heel-rise and goniometry reliability study (project research notes)",
)
HEALTHY_SIDE = Source(
    supports=_(
        "the healthy side is a valid reference: left–right differences are not "
        "clinically significant in healthy adults"
    ),
    citation="Normal range of motion of the ankle in female subjects, 1989",
)
NORMAL_PF = Source(
    supports=_("normal plantar flexion is about 35–50°; dancers exceed it"),
    citation="World J Orthop 2017",
    doi="10.5312/wjo.v8.i1.21",
)
ADHERENCE_HAWLEY_HAGUE = Source(
    # xgettext:no-python-format
    supports=_("80% of prescribed sets is the usual convention for adequate adherence"),
    citation="Hawley-Hague et al., BMJ Open 2016",
)
ADHERENCE_REVIEW = Source(
    # xgettext:no-python-format
    supports=_("the same 80% convention in rehabilitation after knee arthroplasty"),
    citation="Scoping review, BMC Musculoskelet Disord 2021",
)
ADHERENCE_INTERPRETATION = Source(
    supports=_("low adherence makes a trial uninterpretable rather than failed"),
    citation="Physiopedia on home-exercise adherence; hidden-accelerometer studies (JOSPT 2018)",
)
IMMOBILIZATION = Source(
    supports=_("immobilization for less than 10 days; longer gives worse outcomes"),
    citation="Clinical treatment summary of posterior ankle impingement (guideline summary)",
)
BMI = Source(
    supports=_("a raised BMI slows recovery (the cut-off of 30 is a design choice)"),
    citation="Clinical treatment summary of posterior ankle impingement; FAOS reference values "
    "by BMI",
)
FAAM_MCID = Source(
    supports=_(
        "the FAAM is valid for foot and ankle disorders; an important change is 8 points "
        "(ADL) and 9 points (Sports)"
    ),
    citation="Martin RL et al. Evidence of validity for the Foot and Ankle Ability Measure "
    "(FAAM). Foot Ankle Int 2005",
    doi="10.1177/107110070502601113",
)
# The product's own definitions (a usable week, resolution at 1 point): nothing to cite.
RULE_DEFINITION = Source(
    supports=_(
        "a definition of the product's clinical rules (docs/clinical-rules.md), not an "
        "external figure"
    ),
    citation="Product rule definition",
)

FINDING_SOURCES: dict[str, tuple[Source, ...]] = {
    rules.BASELINE_MISSING: (RULE_DEFINITION,),
    rules.LOGGING_GAP: (RULE_DEFINITION,),
    rules.PAIN_WORSENING: (NRS_ERROR,),
    rules.IMPROVING: (MCID_FARRAR, MCID_SALAFFI, MCID_LOW_BASELINE),
    rules.RESOLVED: (RULE_DEFINITION,),
    rules.ADHERENCE_LOW: (
        ADHERENCE_HAWLEY_HAGUE,
        ADHERENCE_REVIEW,
        ADHERENCE_INTERPRETATION,
    ),
    rules.REFERRAL_CONSIDER: (TRIAL_LENGTH, MCID_FARRAR, MCID_SALAFFI, SHARE_RESOLVED),
    rules.REFERRAL_OVERDUE: (TRIAL_LENGTH, MCID_FARRAR, MCID_SALAFFI, SHARE_RESOLVED),
    rules.ROM_DECLINE: (GONIOMETRY,),
    rules.ROM_DEFICIT: (GONIOMETRY, HEALTHY_SIDE, NORMAL_PF),
    rules.IMMOBILIZATION_PROLONGED: (IMMOBILIZATION,),
    rules.BMI_ELEVATED: (BMI,),
    rules.FUNCTION_NOT_IMPROVING: (FAAM_MCID,),
}


def sources_for(code: str) -> tuple[Source, ...]:
    return FINDING_SOURCES.get(code, (RULE_DEFINITION,))
